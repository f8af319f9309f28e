package bench

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuSample is where the CPU time had gone at one moment: this process's own (user
// and system), and the machine's from /proc/stat, in clock ticks by state.
type cpuSample struct {
	process time.Duration
	machine machineTicks
}

// machineTicks are /proc/stat's first line: every CPU's time by state, in ticks.
type machineTicks struct {
	busy, idle, iowait int64
}

func sampleCPU() cpuSample {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return cpuSample{process: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), machine: readMachineTicks()}
}

// readMachineTicks reads the aggregate "cpu" line of /proc/stat: user nice system
// idle iowait irq softirq steal …; zero where there is no /proc.
func readMachineTicks() machineTicks {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineTicks{}
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 6 || fields[0] != "cpu" {
		return machineTicks{}
	}
	var t machineTicks
	for i, f := range fields[1:] {
		if i >= 8 { // guest time is already counted in user
			break
		}
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return machineTicks{}
		}
		switch i {
		case 3:
			t.idle = n
		case 4:
			t.iowait = n
		default:
			t.busy += n
		}
	}
	return t
}

// account fills res's CPU figures for the measured phase, from start to now:
// this process's CPU time per accepted change and the machine's shares of busy,
// idle and waiting-for-disk time. With the server in this process the first counts
// server, client and receiver together; with --target, only the client and receiver.
func (res *Result) account(start cpuSample, changes int64) {
	end := sampleCPU()
	if changes > 0 {
		res.CPUPerChangeUS = float64(end.process-start.process) / float64(time.Microsecond) / float64(changes)
	}
	busy := end.machine.busy - start.machine.busy
	idle := end.machine.idle - start.machine.idle
	iowait := end.machine.iowait - start.machine.iowait
	if total := busy + idle + iowait; total > 0 {
		res.MachineBusyPct = 100 * float64(busy) / float64(total)
		res.MachineIdlePct = 100 * float64(idle) / float64(total)
		res.MachineIOWaitPct = 100 * float64(iowait) / float64(total)
	}
}
