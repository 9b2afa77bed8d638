package report

import (
	"github.com/klauspost/compress/s2"
	"github.com/parquet-go/parquet-go/compress/snappy"
)

// fastSnappy is Parquet's SNAPPY codec with the fast block encoder of
// klauspost/compress/s2. parquet-go's own snappy codec encodes with s2's
// "better" mode, which cost 5.5 s of CPU per 10 million infections against
// 3.4 s here, for files 19% smaller (35 against 42 bytes per infection).
// Writing fast won. The output is standard Snappy, which every Parquet
// reader decodes; decoding is inherited unchanged.
type fastSnappy struct{ snappy.Codec }

// Encode writes the Snappy block encoding of src to dst (reallocated when
// too small) and returns it.
func (fastSnappy) Encode(dst, src []byte) ([]byte, error) {
	return s2.EncodeSnappy(dst[:cap(dst)], src), nil
}

// snappyCodec is the codec of every Parquet file this package writes.
var snappyCodec = &fastSnappy{}
