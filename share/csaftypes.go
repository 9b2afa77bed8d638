package share

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// The CSAF 2.0 document model: every property of the OASIS JSON schema
// (csaf_json_schema.json), in the schema's order, so that any valid CSAF 2.0
// document can be read (ReadCSAF) and written back without loss. CVSS
// objects are kept as raw JSON: their schemas belong to FIRST and carry many
// optional metrics that wormwatch only passes through.

// CSAF is a CSAF 2.0 document.
type CSAF struct {
	Document        CSAFDocument        `json:"document"`
	ProductTree     *ProductTree        `json:"product_tree,omitempty"`
	Vulnerabilities []CSAFVulnerability `json:"vulnerabilities,omitempty"`
}

// CSAFDocument is the document-level metadata.
type CSAFDocument struct {
	Acknowledgments   []Acknowledgment   `json:"acknowledgments,omitempty"`
	AggregateSeverity *AggregateSeverity `json:"aggregate_severity,omitempty"`
	Category          string             `json:"category"`
	CSAFVersion       string             `json:"csaf_version"`
	Distribution      *Distribution      `json:"distribution,omitempty"`
	Lang              string             `json:"lang,omitempty"`
	Notes             []Note             `json:"notes,omitempty"`
	Publisher         Publisher          `json:"publisher"`
	References        []Reference        `json:"references,omitempty"`
	SourceLang        string             `json:"source_lang,omitempty"`
	Title             string             `json:"title"`
	Tracking          Tracking           `json:"tracking"`
}

// Acknowledgment names who is thanked.
type Acknowledgment struct {
	Names        []string `json:"names,omitempty"`
	Organization string   `json:"organization,omitempty"`
	Summary      string   `json:"summary,omitempty"`
	URLs         []string `json:"urls,omitempty"`
}

// AggregateSeverity is the publisher's overall rating.
type AggregateSeverity struct {
	Namespace string `json:"namespace,omitempty"`
	Text      string `json:"text"`
}

// Distribution says who may receive the document.
type Distribution struct {
	Text string `json:"text,omitempty"`
	TLP  *TLP   `json:"tlp,omitempty"`
}

// TLP is a Traffic Light Protocol label (AMBER, GREEN, RED, WHITE).
type TLP struct {
	Label string `json:"label"`
	URL   string `json:"url,omitempty"`
}

// Note is a piece of text of a given category.
type Note struct {
	Audience string `json:"audience,omitempty"`
	Category string `json:"category"`
	Text     string `json:"text"`
	Title    string `json:"title,omitempty"`
}

// Publisher is who issues the document.
type Publisher struct {
	Category         string `json:"category"`
	ContactDetails   string `json:"contact_details,omitempty"`
	IssuingAuthority string `json:"issuing_authority,omitempty"`
	Name             string `json:"name"`
	Namespace        string `json:"namespace"`
}

// Reference is a link with a summary.
type Reference struct {
	Category string `json:"category,omitempty"`
	Summary  string `json:"summary"`
	URL      string `json:"url"`
}

// Tracking identifies the document and its versions.
type Tracking struct {
	Aliases            []string   `json:"aliases,omitempty"`
	CurrentReleaseDate string     `json:"current_release_date"`
	Generator          *Generator `json:"generator,omitempty"`
	ID                 string     `json:"id"`
	InitialReleaseDate string     `json:"initial_release_date"`
	RevisionHistory    []Revision `json:"revision_history"`
	Status             string     `json:"status"`
	Version            string     `json:"version"`
}

// Generator is the program that wrote the document.
type Generator struct {
	Date   string `json:"date,omitempty"`
	Engine Engine `json:"engine"`
}

// Engine names the generator and its version.
type Engine struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// Revision is one entry of the revision history.
type Revision struct {
	Date          string `json:"date"`
	LegacyVersion string `json:"legacy_version,omitempty"`
	Number        string `json:"number"`
	Summary       string `json:"summary"`
}

// ProductTree lists the products the document speaks of.
type ProductTree struct {
	Branches         []Branch          `json:"branches,omitempty"`
	FullProductNames []FullProductName `json:"full_product_names,omitempty"`
	ProductGroups    []ProductGroup    `json:"product_groups,omitempty"`
	Relationships    []Relationship    `json:"relationships,omitempty"`
}

// Branch is one level of the product tree (vendor, product name, version).
type Branch struct {
	Branches []Branch         `json:"branches,omitempty"`
	Category string           `json:"category"`
	Name     string           `json:"name"`
	Product  *FullProductName `json:"product,omitempty"`
}

// FullProductName is a product with its id.
type FullProductName struct {
	Name                        string                       `json:"name"`
	ProductID                   string                       `json:"product_id"`
	ProductIdentificationHelper *ProductIdentificationHelper `json:"product_identification_helper,omitempty"`
}

// ProductIdentificationHelper holds machine-readable product identifiers.
type ProductIdentificationHelper struct {
	CPE           string        `json:"cpe,omitempty"`
	Hashes        []Hashes      `json:"hashes,omitempty"`
	ModelNumbers  []string      `json:"model_numbers,omitempty"`
	PURL          string        `json:"purl,omitempty"`
	SBOMURLs      []string      `json:"sbom_urls,omitempty"`
	SerialNumbers []string      `json:"serial_numbers,omitempty"`
	SKUs          []string      `json:"skus,omitempty"`
	XGenericURIs  []XGenericURI `json:"x_generic_uris,omitempty"`
}

// Hashes are the hashes of one file of a product.
type Hashes struct {
	FileHashes []FileHash `json:"file_hashes"`
	Filename   string     `json:"filename"`
}

// FileHash is one hash of a file.
type FileHash struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}

// XGenericURI is an identifier in some namespace.
type XGenericURI struct {
	Namespace string `json:"namespace"`
	URI       string `json:"uri"`
}

// ProductGroup names a set of products.
type ProductGroup struct {
	GroupID    string   `json:"group_id"`
	ProductIDs []string `json:"product_ids"`
	Summary    string   `json:"summary,omitempty"`
}

// Relationship combines two products into a new one.
type Relationship struct {
	Category                  string          `json:"category"`
	FullProductName           FullProductName `json:"full_product_name"`
	ProductReference          string          `json:"product_reference"`
	RelatesToProductReference string          `json:"relates_to_product_reference"`
}

// CSAFVulnerability is one vulnerability and what to do about it.
type CSAFVulnerability struct {
	Acknowledgments []Acknowledgment `json:"acknowledgments,omitempty"`
	CVE             string           `json:"cve,omitempty"`
	CWE             *CWE             `json:"cwe,omitempty"`
	DiscoveryDate   string           `json:"discovery_date,omitempty"`
	Flags           []Flag           `json:"flags,omitempty"`
	IDs             []VulnID         `json:"ids,omitempty"`
	Involvements    []Involvement    `json:"involvements,omitempty"`
	Notes           []Note           `json:"notes,omitempty"`
	ProductStatus   *ProductStatus   `json:"product_status,omitempty"`
	References      []Reference      `json:"references,omitempty"`
	ReleaseDate     string           `json:"release_date,omitempty"`
	Remediations    []Remediation    `json:"remediations,omitempty"`
	Scores          []Score          `json:"scores,omitempty"`
	Threats         []Threat         `json:"threats,omitempty"`
	Title           string           `json:"title,omitempty"`
}

// CWE is a weakness from the Common Weakness Enumeration.
type CWE struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Flag is a machine-readable justification for a product status.
type Flag struct {
	Date       string   `json:"date,omitempty"`
	GroupIDs   []string `json:"group_ids,omitempty"`
	Label      string   `json:"label"`
	ProductIDs []string `json:"product_ids,omitempty"`
}

// VulnID is an identifier of the vulnerability in some tracking system.
type VulnID struct {
	SystemName string `json:"system_name"`
	Text       string `json:"text"`
}

// Involvement says what a party did about the vulnerability.
type Involvement struct {
	Date    string `json:"date,omitempty"`
	Party   string `json:"party"`
	Status  string `json:"status"`
	Summary string `json:"summary,omitempty"`
}

// ProductStatus lists products by their status for the vulnerability.
type ProductStatus struct {
	FirstAffected      []string `json:"first_affected,omitempty"`
	FirstFixed         []string `json:"first_fixed,omitempty"`
	Fixed              []string `json:"fixed,omitempty"`
	KnownAffected      []string `json:"known_affected,omitempty"`
	KnownNotAffected   []string `json:"known_not_affected,omitempty"`
	LastAffected       []string `json:"last_affected,omitempty"`
	Recommended        []string `json:"recommended,omitempty"`
	UnderInvestigation []string `json:"under_investigation,omitempty"`
}

// Remediation is something to do about the vulnerability.
type Remediation struct {
	Category        string           `json:"category"`
	Date            string           `json:"date,omitempty"`
	Details         string           `json:"details"`
	Entitlements    []string         `json:"entitlements,omitempty"`
	GroupIDs        []string         `json:"group_ids,omitempty"`
	ProductIDs      []string         `json:"product_ids,omitempty"`
	RestartRequired *RestartRequired `json:"restart_required,omitempty"`
	URL             string           `json:"url,omitempty"`
}

// RestartRequired says what must restart after a remediation.
type RestartRequired struct {
	Category string `json:"category"`
	Details  string `json:"details,omitempty"`
}

// Score is a CVSS score for some products, kept as raw JSON.
type Score struct {
	CVSSv2   json.RawMessage `json:"cvss_v2,omitempty"`
	CVSSv3   json.RawMessage `json:"cvss_v3,omitempty"`
	Products []string        `json:"products"`
}

// Threat is information about the threat to products.
type Threat struct {
	Category   string   `json:"category"`
	Date       string   `json:"date,omitempty"`
	Details    string   `json:"details"`
	GroupIDs   []string `json:"group_ids,omitempty"`
	ProductIDs []string `json:"product_ids,omitempty"`
}

// ReadCSAF reads a CSAF 2.0 document. A property the CSAF 2.0 schema does
// not define is an error naming it (the schema allows extra properties, but
// the standard's test 6.2.20 flags them and wormwatch would drop them), as
// is anything after the document.
func ReadCSAF(r io.Reader) (*CSAF, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var c CSAF
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("CSAF document: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("CSAF document: more data after the document")
	}
	if c.Document.CSAFVersion != "2.0" {
		return nil, fmt.Errorf("CSAF document: csaf_version %q: only 2.0 is read", c.Document.CSAFVersion)
	}
	return &c, nil
}

// Encode writes the document as indented JSON.
func (c *CSAF) Encode(w io.Writer) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}
