package isa

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// AVX2FMA agrees with the flags the kernel reports in /proc/cpuinfo, where
// there is one.
func TestAVX2FMA(t *testing.T) {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil || runtime.GOARCH != "amd64" {
		t.Skip("SKIPPED: no /proc/cpuinfo of an amd64 processor")
	}
	var flags []string
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "flags" {
			flags = strings.Fields(v)
			break
		}
	}
	has := func(f string) bool {
		for _, g := range flags {
			if g == f {
				return true
			}
		}
		return false
	}
	if want := has("avx2") && has("fma"); AVX2FMA != want {
		t.Errorf("AVX2FMA is %v; /proc/cpuinfo says avx2 %v, fma %v", AVX2FMA, has("avx2"), has("fma"))
	}
}
