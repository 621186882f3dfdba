package system

import (
	"encoding/json"
	"fmt"
)

// FilterPolicy is the subset of SNS subscription filter policies that routing by state
// needs: every condition must hold (AND across attributes); an empty policy matches every
// message.
type FilterPolicy []FilterCond

// FilterCond is one attribute's condition: either AnyOf (the attribute is present and
// equals one of the values; one value is an exact match) or Exists (the attribute is
// present, or absent when false).
type FilterCond struct {
	Attribute string
	AnyOf     []string
	Exists    *bool
}

// Match reports whether a message with these attributes passes the policy.
func (p FilterPolicy) Match(attrs Attributes) bool {
	for i := range p {
		if !p[i].match(attrs) {
			return false
		}
	}
	return true
}

func (c *FilterCond) match(attrs Attributes) bool {
	v, ok := attrs.Get(c.Attribute)
	if c.Exists != nil {
		return ok == *c.Exists
	}
	if !ok {
		return false
	}
	for _, want := range c.AnyOf {
		if v == want {
			return true
		}
	}
	return false
}

// Validate refuses conditions that SNS would refuse or that cannot match as meant.
func (p FilterPolicy) Validate() error {
	for i, c := range p {
		if c.Attribute == "" {
			return fmt.Errorf("filter[%d]: attribute name is empty: %w", i, ErrInvalid)
		}
		for _, prev := range p[:i] {
			if prev.Attribute == c.Attribute {
				return fmt.Errorf("filter[%d]: attribute %q has two conditions: %w", i, c.Attribute, ErrInvalid)
			}
		}
		switch {
		case c.Exists != nil && len(c.AnyOf) > 0:
			return fmt.Errorf("filter[%d] %s: give either any_of or exists, not both: %w", i, c.Attribute, ErrInvalid)
		case c.Exists == nil && len(c.AnyOf) == 0:
			return fmt.Errorf("filter[%d] %s: give any_of values or exists: %w", i, c.Attribute, ErrInvalid)
		}
	}
	return nil
}

// Equals is the policy "attribute equals value".
func Equals(attribute, value string) FilterPolicy {
	return FilterPolicy{{Attribute: attribute, AnyOf: []string{value}}}
}

// SNSJSON renders the policy as an SNS FilterPolicy document (MessageAttributes scope):
// {"state":["approved","rejected"],"tenant":[{"exists":true}]}.
func (p FilterPolicy) SNSJSON() ([]byte, error) {
	doc := make(map[string][]any, len(p))
	for _, c := range p {
		if c.Exists != nil {
			doc[c.Attribute] = []any{map[string]bool{"exists": *c.Exists}}
			continue
		}
		vals := make([]any, len(c.AnyOf))
		for i, v := range c.AnyOf {
			vals[i] = v
		}
		doc[c.Attribute] = vals
	}
	// encoding/json sorts map keys, so the document is deterministic.
	return json.Marshal(doc)
}
