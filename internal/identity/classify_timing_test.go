package identity

import "testing"

func BenchmarkClassify(b *testing.B) {
	paths := make([]string, len(classifyCases))
	for i, tc := range classifyCases {
		paths[i] = tc.path
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Classify(paths[i%len(paths)])
	}
}
