package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one step of the schema: its number (from 1) and SQL.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations are the steps, in order; their count is the schema version
// of this program.
var migrations = loadMigrations()

// loadMigrations reads the embedded steps, named NNNN_name.sql and
// numbered 1, 2, 3, ... without a gap (a mistake in the files panics: the
// tests see it).
func loadMigrations() []migration {
	entries, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		panic(err)
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 4 {
			panic("store: migration file " + e.Name() + " is not named NNNN_name.sql")
		}
		data, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			panic(err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(data)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			panic(fmt.Sprintf("store: migration %s: want number %d", m.name, i+1))
		}
	}
	return out
}

// SchemaVersion is the schema version this program writes: the number of
// migrations it knows.
func SchemaVersion() int { return len(migrations) }

// userVersion reads PRAGMA user_version: the migrations applied.
func userVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// migrate applies the migrations after the database's version, up to
// version upto, each in a transaction of its own with the new version.
func migrate(ctx context.Context, db *sql.DB, upto int) error {
	have, err := userVersion(ctx, db)
	if err != nil {
		return err
	}
	if have > len(migrations) {
		return fmt.Errorf("schema version %d, made by a newer wormwatch (this one knows versions up to %d)", have, len(migrations))
	}
	for _, m := range migrations[have:upto] {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}
