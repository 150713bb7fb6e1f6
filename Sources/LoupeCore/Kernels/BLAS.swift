#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The BLAS library as Loupe uses it: one kernel set, and one thread per call.
///
/// Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) picks its kernels when it loads and does not know every
/// AVX-512 CPU: on some Xeons it falls back to "Prescott" (SSE3), 4–5x slower (MEASURED.md). Before
/// the first product, `BLAS.configure()` re-selects the SkylakeX kernels when the CPU has AVX-512 —
/// through OpenBLAS's exported `gotoblas_dynamic_quit`/`_init`, looked up at run time so another BLAS
/// still works — and sets BLAS to one thread: Loupe splits products itself (`gemm`), so the bits of a
/// result never depend on the thread count or on which trials run side by side.
/// `LOUPE_BLAS_CORETYPE` overrides the kernel set (`keep` leaves OpenBLAS's own choice).
public enum BLAS {
    /// What `configure()` did, for benchmarks and bug reports.
    public struct Configuration: Sendable {
        public var library: String
        /// OpenBLAS's kernel set before and after configuration ("" for other libraries).
        public var initialCore: String
        public var core: String
    }

    private static let configured: Configuration = doConfigure()

    /// Configures the BLAS once per process; every product calls it first (a load after the first).
    @discardableResult
    public static func configure() -> Configuration { configured }

    private static func doConfigure() -> Configuration {
        #if canImport(Accelerate)
        return Configuration(library: "Accelerate", initialCore: "", core: "")
        #else
        typealias CoreName = @convention(c) () -> UnsafePointer<CChar>?
        typealias VoidFn = @convention(c) () -> Void
        typealias SetThreads = @convention(c) (Int32) -> Void
        let handle = dlopen(nil, RTLD_NOW)
        func symbol<T>(_ name: String, _ type: T.Type) -> T? {
            guard let p = dlsym(handle, name) else { return nil }
            return unsafeBitCast(p, to: type)
        }
        guard let coreName = symbol("openblas_get_corename", CoreName.self) else {
            return Configuration(library: "cblas", initialCore: "", core: "")
        }
        let name = { coreName().map { String(cString: $0) } ?? "" }
        let initial = name()
        let requested = getenv("LOUPE_BLAS_CORETYPE").map { String(cString: $0) }
        let wanted: String? = requested == "keep" ? nil : (requested ?? (cpuHasAVX512() ? "SkylakeX" : nil))
        if let wanted, wanted.lowercased() != initial.lowercased(),
           let quit = symbol("gotoblas_dynamic_quit", VoidFn.self),
           let initialize = symbol("gotoblas_dynamic_init", VoidFn.self) {
            quit()
            setenv("OPENBLAS_CORETYPE", wanted, 1)
            initialize()
        }
        if let setThreads = symbol("openblas_set_num_threads", SetThreads.self) { setThreads(1) }
        return Configuration(library: "OpenBLAS", initialCore: initial, core: name())
        #endif
    }

    private static func cpuHasAVX512() -> Bool {
        #if arch(x86_64)
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
        guard let flags = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let set = Set(flags.split(separator: " "))
        return set.contains("avx512f") && set.contains("avx512bw") && set.contains("avx512vl") && set.contains("avx512dq")
        #else
        return false
        #endif
    }
}
