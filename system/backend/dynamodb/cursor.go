package dynamodb

import (
	"encoding/base64"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/headroom/headroom/system"
)

// cursorPrefix versions the cursor format, so a future one can tell old cursors apart.
const cursorPrefix = "d1."

// encodeCursor makes a List cursor of a Scan's LastEvaluatedKey: the table's key is the id
// alone, and base64 keeps the cursor opaque (callers must not build or edit one).
func encodeCursor(lek map[string]types.AttributeValue) (string, error) {
	if len(lek) == 0 {
		return "", nil
	}
	id, ok := lek[attrID].(*types.AttributeValueMemberS)
	if !ok || len(lek) != 1 {
		return "", fmt.Errorf("list: unexpected last evaluated key %v", lek)
	}
	return cursorPrefix + base64.RawURLEncoding.EncodeToString([]byte(id.Value)), nil
}

// decodeCursor is encodeCursor's inverse; nil for "".
func decodeCursor(c string) (map[string]types.AttributeValue, error) {
	if c == "" {
		return nil, nil
	}
	bad := fmt.Errorf("list: cursor %q is not one this store returned: %w", c, system.ErrInvalid)
	if len(c) <= len(cursorPrefix) || c[:len(cursorPrefix)] != cursorPrefix {
		return nil, bad
	}
	id, err := base64.RawURLEncoding.DecodeString(c[len(cursorPrefix):])
	if err != nil || len(id) == 0 {
		return nil, bad
	}
	return key(string(id)), nil
}
