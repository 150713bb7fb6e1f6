// swift-tools-version: 6.1
import PackageDescription

// BLAS: OpenBLAS from Debian's libopenblas-dev on Linux (chosen by measurement: see MEASURED.md),
// Accelerate on macOS.
#if os(macOS)
let blasDependencies: [Target.Dependency] = []
let blasLinker: [LinkerSetting] = [.linkedFramework("Accelerate")]
let blasTargets: [Target] = []
#else
let blasDependencies: [Target.Dependency] = ["CBLAS"]
let blasLinker: [LinkerSetting] = []
let blasTargets: [Target] = [
    .systemLibrary(
        name: "CBLAS",
        pkgConfig: "openblas",
        providers: [.apt(["libopenblas-dev"])]
    ),
]
#endif

let package = Package(
    name: "Loupe",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "LoupeCore", targets: ["LoupeCore"]),
        .library(name: "LoupeData", targets: ["LoupeData"]),
        .library(name: "LoupeNN", targets: ["LoupeNN"]),
        .executable(name: "loupe-example", targets: ["LoupeExample"]),
        .executable(name: "loupe-bench", targets: ["LoupeBench"]),
    ],
    targets: blasTargets + [
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Floating-point environment (flush-to-zero) and nothing else: Swift cannot reach MXCSR.
        .target(name: "CLoupeSupport"),
        .target(
            name: "LoupeCore",
            dependencies: blasDependencies + ["CLoupeSupport"],
            linkerSettings: blasLinker
        ),
        .target(name: "LoupeData", dependencies: ["LoupeCore", "CPNG", "CZlib"]),
        .target(name: "LoupeNN", dependencies: ["LoupeCore"]),
        .executableTarget(name: "LoupeExample", dependencies: ["LoupeCore"]),
        .executableTarget(name: "LoupeBench", dependencies: ["LoupeCore", "LoupeNN"]),
        .testTarget(name: "LoupeCoreTests", dependencies: ["LoupeCore"]),
        .testTarget(name: "LoupeDataTests", dependencies: ["LoupeData"]),
        .testTarget(name: "LoupeNNTests", dependencies: ["LoupeNN", "LoupeData"]),
    ],
    swiftLanguageModes: [.v6]
)
