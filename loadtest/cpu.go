package loadtest

import (
	"bufio"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// CPUMeter measures a process's CPU use and the machine's over an interval: started with
// StartCPU, read with Stop.
type CPUMeter struct {
	start         time.Time
	proc          float64
	procFn        func() (float64, bool)
	busy0, total0 float64
	machineOK     bool
}

// StartCPU starts measuring the calling process.
func StartCPU() *CPUMeter { return startCPU(selfCPU) }

// StartCPUOf starts measuring another process by pid (Linux /proc), e.g. the k6 child.
func StartCPUOf(pid int) *CPUMeter {
	return startCPU(func() (float64, bool) { return procCPU(pid) })
}

func startCPU(fn func() (float64, bool)) *CPUMeter {
	m := &CPUMeter{start: time.Now(), procFn: fn}
	m.proc, _ = fn()
	m.busy0, m.total0, m.machineOK = machineCPU()
	return m
}

// Stop returns the usage since the start.
func (m *CPUMeter) Stop() CPUUsage {
	u := CPUUsage{WallS: time.Since(m.start).Seconds(), Cores: runtime.NumCPU(), MachineBusy: math.NaN()}
	if p, ok := m.procFn(); ok {
		u.ProcessS = p - m.proc
	}
	if b, t, ok := machineCPU(); ok && m.machineOK && t > m.total0 {
		u.MachineBusy = (b - m.busy0) / (t - m.total0)
	}
	return u
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every Linux platform Go
// supports.
const clockTicks = 100

// machineCPU reads the busy and total CPU time of the machine from /proc/stat.
func machineCPU() (busy, total float64, ok bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, 0, false
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0, false
	}
	for i, s := range fields[1:] {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, 0, false
		}
		if i >= 8 { // guest times are already counted in user and nice
			break
		}
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total, true
}

// procCPU reads a process's user + system CPU seconds from /proc/PID/stat.
func procCPU(pid int) (float64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name may hold spaces and parentheses: the fields start after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseFloat(fields[11], 64)
	st, err2 := strconv.ParseFloat(fields[12], 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return (ut + st) / clockTicks, true
}
