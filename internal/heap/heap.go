// Package heap measures peak heap use for benchmarks that report memory.
package heap

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Sample reads the heap every 10 ms until the returned stop is called;
// stop returns the highest HeapInuse seen, in MiB.
func Sample() (stop func() float64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return func() float64 {
		close(done)
		wg.Wait()
		return float64(peak.Load()) / (1 << 20)
	}
}
