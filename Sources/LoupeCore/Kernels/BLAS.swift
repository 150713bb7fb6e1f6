import CLoupeSupport

/// The BLAS library as Loupe uses it: one kernel set, and one thread per call.
///
/// Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) picks its kernels when it loads and does not know every
/// AVX-512 CPU: on some Xeons it falls back to "Prescott" (SSE3), 4–5x slower (MEASURED.md). When
/// the program loads — before `main`, before any thread — `CLoupeSupport` re-selects the SkylakeX
/// kernels on CPUs with AVX-512 (through OpenBLAS's exported `gotoblas_dynamic_quit`/`_init`,
/// looked up at run time so another BLAS still works) and sets BLAS to one thread: Loupe splits
/// products itself (`gemm`), so the bits of a result never depend on the thread count or on which
/// trials run side by side. `LOUPE_BLAS_CORETYPE` names another kernel set (`keep` leaves
/// OpenBLAS's own choice).
public enum BLAS {
    /// What was selected, for benchmarks and bug reports.
    public struct Configuration: Sendable {
        public var library: String
        /// OpenBLAS's kernel set when the program loaded and after Loupe's selection ("" for other libraries).
        public var initialCore: String
        public var core: String
    }

    private static let configured: Configuration = {
        #if canImport(Accelerate)
        return Configuration(library: "Accelerate", initialCore: "", core: "")
        #else
        let initial = String(cString: loupe_blas_initial_core()), core = String(cString: loupe_blas_core())
        return Configuration(library: core.isEmpty ? "cblas" : "OpenBLAS", initialCore: initial, core: core)
        #endif
    }()

    /// The configuration (the selection itself happened when the program loaded).
    @discardableResult
    public static func configure() -> Configuration { configured }
}
