import FloatLanes

// This module is compiled for AVX2 (see Package.swift): the closures below inline FloatLanes'
// source and so run on 256-bit registers. Call them only where the CPU has AVX2; the sweep
// asks CPUID first.

extension LaneKernel {
    /// The sweep's inner loops compiled for AVX2.
    public static let avx2 = LaneKernel(
        name: "AVX2",
        identical: { $0.identical() }, mismatches: { $0.mismatches() }, firstMismatch: { $0.firstMismatch() },
        bf16Reference: { FloatLanes.bf16Reference(first: $0, count: $1, into: $2) })
}
