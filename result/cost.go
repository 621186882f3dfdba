package result

// Usage is one billable quantity a component consumed over the measured period. The
// simulator's kinds report it (invocations, GB-seconds, API requests, queue requests,
// capacity units, instance-hours); the cost model prices it with a price table.
type Usage struct {
	// Price is the key of the price-table entry that prices it: "lambda.requests",
	// "sqs.standard.requests", "ec2.m5.large".
	Price string `json:"price"`
	// Item says what was counted, for people: "invocations", "ReceiveMessage, empty".
	Item     string  `json:"item"`
	Quantity float64 `json:"quantity"`
	// Fixed marks usage that does not follow the load (a fixed number of instances): the
	// cost at another load scales every other quantity and keeps this one.
	Fixed bool `json:"fixed,omitempty"`
}

// Cost is the bill for a run's usage. Monthly figures extrapolate the measured period to
// HoursPerMonth (730 h, as AWS's calculator does); tiered prices are applied to the monthly
// volume of each price in each region, and the measured period is charged at the same
// average unit price.
type Cost struct {
	PricesAsOf   string `json:"prices_as_of"`
	PricesSource string `json:"prices_source"`
	Currency     string `json:"currency"`
	// HoursPerMonth is the month the monthly figures extrapolate to.
	HoursPerMonth float64 `json:"hours_per_month"`
	// PeriodS is the measured period (horizon − warm-up) the usage was counted over.
	PeriodS float64 `json:"period_s"`
	// HorizonUSD is the cost of the measured period; MonthlyUSD of a month at that pace.
	HorizonUSD float64 `json:"horizon_usd"`
	MonthlyUSD float64 `json:"monthly_usd"`
	// PerMillionUSD is the cost per million completed requests (0 when none completed).
	PerMillionUSD float64 `json:"per_million_usd"`
	// Services totals the lines per service, in the order services first appear.
	Services []ServiceCost `json:"services"`
	// Lines are one per component and usage item, in component order.
	Lines []CostLine `json:"lines"`
	// Unpriced lists usage the price table has no price for ("component: price key"):
	// the totals leave it out.
	Unpriced []string `json:"unpriced,omitempty"`
}

// ServiceCost is one service's share of the bill.
type ServiceCost struct {
	Service    string  `json:"service"`
	HorizonUSD float64 `json:"horizon_usd"`
	MonthlyUSD float64 `json:"monthly_usd"`
}

// CostLine is one priced usage item of one component.
type CostLine struct {
	Component string `json:"component"`
	Region    string `json:"region,omitempty"`
	Service   string `json:"service"`
	Item      string `json:"item"`
	Price     string `json:"price"`
	// Quantity over the measured period, in Unit.
	Quantity float64 `json:"quantity"`
	Unit     string  `json:"unit"`
	// UnitUSD is the price of Per units (the average over tiers at the monthly volume).
	UnitUSD float64 `json:"unit_usd"`
	Per     float64 `json:"per"`
	// HorizonUSD is the cost of Quantity; MonthlyUSD the cost of a month at that pace.
	HorizonUSD float64 `json:"horizon_usd"`
	MonthlyUSD float64 `json:"monthly_usd"`
}
