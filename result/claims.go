package result

// Verdicts of a claim.
const (
	VerdictHolds   = "holds"
	VerdictFails   = "fails"
	VerdictUnknown = "unknown" // the run cannot decide it; Evidence says what is missing
)

// ClaimResult is one claim of the scenario with its verdict.
type ClaimResult struct {
	// Claim is the statement as the scenario makes it ("a second region doubles capacity").
	Claim string `json:"claim"`
	// Check is its checkable form ("capacity_ratio vs baseline >= 1.8").
	Check    string `json:"check"`
	Verdict  string `json:"verdict"`
	Evidence string `json:"evidence"`
}

// Ordering counts messages checked for per-key order and those processed out of order.
// Combined over replications, Checked is their mean and Violations the most any of them had
// (combine:"max"), so that one replication that broke the order is not averaged away.
type Ordering struct {
	// Key is the attribute the order is kept by (the message-group key): "state".
	Key        string `json:"key"`
	Checked    int64  `json:"checked"`
	Violations int64  `json:"violations" combine:"max"`
}
