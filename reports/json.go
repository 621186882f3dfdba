package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/headroom/headroom/result"
)

// JSON writes r as indented JSON followed by a newline. The encoding follows the struct
// order of result.Result, so the same result always gives the same bytes. A NaN or an
// infinity anywhere in r is an error naming the field, rather than encoding/json's
// anonymous "unsupported value".
func JSON(w io.Writer, r *result.Result) error {
	if err := checkFinite(r); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	// Checks and break details are prose; keep "<", ">" and "&" readable.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
