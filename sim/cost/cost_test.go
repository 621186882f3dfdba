package cost

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func TestBundledTableIsValidAndSourced(t *testing.T) {
	tab := Default()
	if tab.AsOf == "" || tab.HoursPerMonth != 730 || tab.Currency != "USD" {
		t.Fatalf("as_of %q, hours %v, currency %q", tab.AsOf, tab.HoursPerMonth, tab.Currency)
	}
	if tab.Source != "bundled:prices.yaml" {
		t.Errorf("source %q", tab.Source)
	}
	for _, e := range tab.Entries() {
		if e.Source == "" || e.Service == "" || e.Unit == "" || len(e.Tiers) == 0 {
			t.Errorf("%s: incomplete entry %+v", e.Key, e)
		}
	}
	// The prices the simulator's kinds report must all be there.
	for _, key := range []string{
		"lambda.requests", "lambda.compute.x86", "lambda.compute.arm",
		"apigateway.rest.requests", "apigateway.http.requests",
		"sqs.standard.requests", "sqs.fifo.requests", "sqs.standard.sns_deliveries",
		"sns.standard.publishes", "sns.fifo.publishes", "sns.deliveries.sqs",
		"dynamodb.on_demand.write_units", "dynamodb.on_demand.read_units",
		"dynamodb.on_demand.replicated_write_units",
		"dynamodb.provisioned.wcu_hours", "dynamodb.provisioned.rcu_hours",
		"eks.cluster_hours", "ec2.m5.large", "rds.mysql.db.m5.large", "elasticache.cache.m5.large",
	} {
		if _, ok := tab.Entry(key); !ok {
			t.Errorf("no price for %s", key)
		}
	}
}

// The reference sheet's prices, as the table gives them.
func TestBundledPricesMatchTheReferenceSheet(t *testing.T) {
	tab := Default()
	for _, c := range []struct {
		key  string
		q    float64 // monthly quantity
		want float64 // USD, by hand
	}{
		{"lambda.requests", 1e6, 0.20},
		{"lambda.compute.x86", 1, 0.0000166667},
		{"lambda.compute.arm", 1, 0.0000133334},
		{"sqs.standard.requests", 1e6, 0.40},
		{"sqs.fifo.requests", 1e6, 0.50},
		{"sns.standard.publishes", 1e6, 0.50},
		{"sns.fifo.publishes", 1e6, 0.30},
		{"sns.deliveries.sqs", 1e6, 0},
		{"dynamodb.on_demand.write_units", 1e6, 0.625},
		{"dynamodb.on_demand.read_units", 1e6, 0.125},
		{"eks.cluster_hours", 730, 73},
		{"ec2.m5.large", 730, 70.08},
		{"rds.mysql.db.m5.large", 730, 124.83},
		{"apigateway.rest.requests", 1e6, 3.50},
		{"apigateway.http.requests", 1e6, 1.00},
		// Tiers: 333 M × $3.50 + 667 M × $2.80 + 500 M × $2.38.
		{"apigateway.rest.requests", 1.5e9, 333*3.50 + 667*2.80 + 500*2.38},
		// 300 M × $1.00 + 700 M × $0.90.
		{"apigateway.http.requests", 1e9, 300 + 700*0.90},
		// 6 G × 0.0000166667 + 9 G × 0.000015 + 5 G × 0.0000133334.
		{"lambda.compute.x86", 20e9, 6e9*0.0000166667 + 9e9*0.000015 + 5e9*0.0000133334},
	} {
		e, ok := tab.Entry(c.key)
		if !ok {
			t.Fatalf("no %s", c.key)
		}
		if got := e.Cost(c.q); math.Abs(got-c.want) > 1e-9*math.Max(1, c.want) {
			t.Errorf("%s at %g: $%.10f, want $%.10f", c.key, c.q, got, c.want)
		}
	}
}

// vmResult is a day of three web VMs and three database VMs (the original design's 3 + 3).
func vmResult() *result.Result {
	return &result.Result{
		HorizonS: 86400,
		Workload: result.Workload{Completed: 1_000_000},
		Components: []result.Component{
			{Name: "web", Region: "us-east-1", Usage: []result.Usage{{Price: "ec2.m5.large", Item: "3 instances", Quantity: 3 * 24, Fixed: true}}},
			{Name: "db", Region: "us-east-1", Usage: []result.Usage{{Price: "rds.mysql.db.m5.large", Item: "3 instances", Quantity: 3 * 24, Fixed: true}}},
		},
	}
}

// 3 × m5.large × 730 h × $0.096 = $210.24; 3 × db.m5.large × 730 h × $0.171 = $374.49;
// together $584.73 a month ("≈ $585/month before storage" in the reference sheet). A day
// is 24/730 of that: 72 h × $0.096 + 72 h × $0.171 = $19.224.
func TestInstanceHoursPricedToTheCent(t *testing.T) {
	c := Default().Price(vmResult())
	if c.MonthlyUSD != 584.73 {
		t.Errorf("monthly $%v, want $584.73", c.MonthlyUSD)
	}
	if c.HorizonUSD != 19.224 {
		t.Errorf("day $%v, want $19.224", c.HorizonUSD)
	}
	if len(c.Services) != 2 || c.Services[0].Service != "EC2" || c.Services[0].MonthlyUSD != 210.24 ||
		c.Services[1].Service != "RDS" || c.Services[1].MonthlyUSD != 374.49 {
		t.Errorf("services %+v", c.Services)
	}
	l := c.Lines[0]
	if l.Component != "web" || l.Quantity != 72 || l.Unit != "instance-hours" || l.UnitUSD != 0.096 || l.Per != 1 {
		t.Errorf("line %+v", l)
	}
	// $19.224 for a million completed requests.
	if c.PerMillionUSD != 19.224 {
		t.Errorf("per million $%v", c.PerMillionUSD)
	}
	if c.PeriodS != 86400 || c.HoursPerMonth != 730 || c.PricesAsOf != Default().AsOf {
		t.Errorf("header %+v", c)
	}
}

// One hour of a function: 1,000,000 invocations and 100,000 GB-s on x86. A month of such
// hours is 730 M invocations × $0.20/M + 73 M GB-s × $0.0000166667 = $146 + $1,216.6691.
func TestLambdaHourExtrapolatedToAMonth(t *testing.T) {
	r := &result.Result{HorizonS: 3600, Workload: result.Workload{Completed: 1_000_000}, Components: []result.Component{{
		Name: "fn", Usage: []result.Usage{
			{Price: "lambda.requests", Item: "invocations", Quantity: 1e6},
			{Price: "lambda.compute.x86", Item: "billed duration", Quantity: 1e5},
		}}}}
	c := Default().Price(r)
	if want := 146 + 1216.6691; math.Abs(c.MonthlyUSD-want) > 1e-6 {
		t.Errorf("monthly $%v, want $%v", c.MonthlyUSD, want)
	}
	if want := 0.2 + 1.66667; math.Abs(c.HorizonUSD-want) > 1e-6 {
		t.Errorf("hour $%v, want $%v", c.HorizonUSD, want)
	}
	if c.Lines[0].UnitUSD != 0.2 || c.Lines[0].Per != 1e6 || c.Lines[1].UnitUSD != 0.0000166667 {
		t.Errorf("unit prices %+v", c.Lines)
	}
}

// Tiers apply to the monthly volume of a price summed over the components of a region,
// and each line pays the average: two gateways of 1 G requests a month each are 2 G of REST
// requests: 333 M × 3.50 + 667 M × 2.80 + 1 G × 2.38, half each.
func TestTiersApplyToTheRegionsMonthlyVolume(t *testing.T) {
	perHour := 2e9 / 730 / 2
	r := &result.Result{HorizonS: 3600, Components: []result.Component{
		{Name: "a", Region: "r1", Usage: []result.Usage{{Price: "apigateway.rest.requests", Item: "requests", Quantity: perHour}}},
		{Name: "b", Region: "r1", Usage: []result.Usage{{Price: "apigateway.rest.requests", Item: "requests", Quantity: perHour}}},
		{Name: "c", Region: "r2", Usage: []result.Usage{{Price: "apigateway.rest.requests", Item: "requests", Quantity: perHour}}},
	}}
	c := Default().Price(r)
	both := 333*3.50 + 667*2.80 + 1000*2.38
	alone := 333*3.50 + 667*2.80
	if math.Abs(c.Lines[0].MonthlyUSD-both/2) > 1e-5 || math.Abs(c.Lines[1].MonthlyUSD-both/2) > 1e-5 {
		t.Errorf("region r1 lines %+v, want $%v each", c.Lines[:2], both/2)
	}
	if math.Abs(c.Lines[2].MonthlyUSD-alone) > 1e-5 {
		t.Errorf("region r2 line %+v, want $%v", c.Lines[2], alone)
	}
}

func TestPriceAtScalesAllButFixedUsage(t *testing.T) {
	r := vmResult()
	r.Components = append(r.Components, result.Component{Name: "fn", Usage: []result.Usage{{Price: "lambda.requests", Item: "invocations", Quantity: 1e6}}})
	c := Default().PriceAt(r, 2)
	// Instances stay; 2 M invocations a day × 730/24 × $0.20/M.
	want := 584.73 + 2*730.0/24*0.2
	if math.Abs(c.MonthlyUSD-want) > 1e-6 {
		t.Errorf("monthly $%v, want $%v", c.MonthlyUSD, want)
	}
}

func TestUnpricedUsageIsListedNotGuessed(t *testing.T) {
	r := &result.Result{HorizonS: 3600, Components: []result.Component{{Name: "x", Usage: []result.Usage{{Price: "ec2.p5.48xlarge", Item: "1 instance", Quantity: 1}}}}}
	c := Default().Price(r)
	if len(c.Unpriced) != 1 || !strings.Contains(c.Unpriced[0], "x: ec2.p5.48xlarge") || c.MonthlyUSD != 0 {
		t.Errorf("unpriced %v, monthly %v", c.Unpriced, c.MonthlyUSD)
	}
}

func TestParseErrorsNameFileLineAndKey(t *testing.T) {
	for _, c := range []struct {
		name, yaml string
		want       []string
	}{
		{"missing as_of", "prices:\n  a.b: {service: S, unit: u, usd: 1, source: s}\n", []string{"my.yaml:1: as_of: missing as_of"}},
		{"bad date", "as_of: yesterday\nprices:\n  a.b: {service: S, unit: u, usd: 1, source: s}\n", []string{"my.yaml:1: as_of: expected the date"}},
		{"no source", "as_of: \"2026-01-01\"\nprices:\n  a.b:\n    service: S\n    unit: u\n    usd: 1\n", []string{"my.yaml:3: prices.a.b.source: missing source"}},
		{"unknown key", "as_of: \"2026-01-01\"\nprices:\n  a.b:\n    service: S\n    unit: u\n    uds: 1\n    source: s\n", []string{
			`my.yaml:6: prices.a.b.uds: unknown key "uds" for a price (did you mean usd?)`,
			"my.yaml:3: prices.a.b.usd: missing usd"}},
		{"negative", "as_of: \"2026-01-01\"\nprices:\n  a.b: {service: S, unit: u, usd: -1, source: s}\n", []string{"my.yaml:3: prices.a.b.usd: must be >= 0, got -1"}},
		{"text price", "as_of: \"2026-01-01\"\nprices:\n  a.b: {service: S, unit: u, usd: cheap, source: s}\n", []string{`my.yaml:3: prices.a.b.usd: expected a number, got "cheap"`}},
		{"both", "as_of: \"2026-01-01\"\nprices:\n  a.b:\n    service: S\n    unit: u\n    usd: 1\n    tiers: [{usd: 1}]\n    source: s\n", []string{"my.yaml:7: prices.a.b.tiers: give usd (a flat price) or tiers, not both"}},
		{"last tier bounded", "as_of: \"2026-01-01\"\nprices:\n  a.b:\n    service: S\n    unit: u\n    source: s\n    tiers:\n      - {up_to: 10, usd: 2}\n      - {up_to: 20, usd: 1}\n", []string{"my.yaml:9: prices.a.b.tiers[1].up_to: the last tier has no up_to"}},
		{"tiers decrease", "as_of: \"2026-01-01\"\nprices:\n  a.b:\n    service: S\n    unit: u\n    source: s\n    tiers:\n      - {up_to: 10, usd: 2}\n      - {up_to: 5, usd: 1}\n      - {usd: 1}\n", []string{"my.yaml:9: prices.a.b.tiers[1].up_to: must be above the previous tier's bound (10), got 5"}},
		{"duplicate", "as_of: \"2026-01-01\"\nprices:\n  a.b: {service: S, unit: u, usd: 1, source: s}\n  a.b: {service: S, unit: u, usd: 2, source: s}\n", []string{"my.yaml:4: prices.a.b: given twice (first on line 3)"}},
		{"bad key", "as_of: \"2026-01-01\"\nprices:\n  A B: {service: S, unit: u, usd: 1, source: s}\n", []string{`my.yaml:3: prices.A B: bad price key "A B"`}},
		{"top-level typo", "as_of: \"2026-01-01\"\nhours_per_moth: 720\nprices:\n  a.b: {service: S, unit: u, usd: 1, source: s}\n", []string{`my.yaml:2: hours_per_moth: unknown key "hours_per_moth" for a price table (did you mean hours_per_month?)`}},
		{"syntax", "as_of: [\n", []string{"my.yaml:"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("my.yaml", []byte(c.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			var se *scenarios.Error
			if !errors.As(err, &se) {
				t.Fatalf("%T is not a *scenarios.Error: %v", err, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

func TestLoadNamesAMissingFile(t *testing.T) {
	_, err := Load("/nonexistent/prices.yaml")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/prices.yaml: cannot read the price table") {
		t.Fatalf("error %v", err)
	}
}
