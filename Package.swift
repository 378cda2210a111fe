// swift-tools-version:6.0
import PackageDescription

// No package dependencies: Foundation, Dispatch and Glibc, plus OpenSSL and libpq as system libraries.
let package = Package(
    name: "hub",
    products: [
        .executable(name: "hubd", targets: ["hubd"]),
        .executable(name: "loadtest", targets: ["loadtest"]),
        .library(name: "Hub", targets: ["Hub"]),
    ],
    targets: [
        .systemLibrary(name: "CHubSystem", path: "Sources/CHubSystem"),
        .systemLibrary(
            name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(name: "Hub", dependencies: ["CHubSystem", "COpenSSL"]),
        .target(name: "Channels", dependencies: ["Hub"]),
        .target(name: "NotifyDrivers", dependencies: ["Hub", "COpenSSL"]),
        .target(
            name: "RESTBridge", dependencies: ["Hub", "Channels", "NotifyDrivers", "CLibPQ", "COpenSSL"],
            resources: [.copy("Catalogue/events.json"), .copy("OpenAPI/openapi.json"), .copy("Auth/common-passwords.txt")]
        ),
        .executableTarget(name: "hubd", dependencies: ["Hub", "Channels", "RESTBridge", "NotifyDrivers"]),
        .executableTarget(
            name: "loadtest", dependencies: ["Hub", "RESTBridge", "NotifyDrivers"], path: "loadtest", exclude: ["scripts"]
        ),
        .target(name: "HubTestSupport", dependencies: ["Hub"], path: "Tests/HubTestSupport"),
        .testTarget(name: "HubTests", dependencies: ["Hub", "HubTestSupport"]),
        .testTarget(name: "ChannelsTests", dependencies: ["Channels"]),
        .testTarget(name: "RESTBridgeTests", dependencies: ["RESTBridge"]),
        .testTarget(name: "NotifyDriversTests", dependencies: ["NotifyDrivers", "Hub", "HubTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["Hub", "HubTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

// Fuzz targets (Tests/Fuzz, run by `make fuzz`), declared only when HUB_FUZZ=1 so the normal build and
// test never see them. Each is an executable built with `-sanitize=fuzzer,address` into .build-fuzz.
if Context.environment["HUB_FUZZ"] == "1" {
    package.targets += [
        .systemLibrary(name: "CLibFuzzer", path: "Tests/Fuzz/CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], path: "Tests/Fuzz/FuzzSupport"),
    ]
    let fuzzTargets: [(String, [Target.Dependency])] = [
        ("FuzzHTTPRequest", ["Hub"]),
        ("FuzzHTTPResponse", ["Hub"]),
        ("FuzzWebSocketFrames", ["Hub"]),
        ("FuzzClientMessage", ["Channels"]),
        ("FuzzJWT", ["RESTBridge"]),
        ("FuzzEventBody", ["RESTBridge", "Hub"]),
        ("FuzzSMTPReply", ["NotifyDrivers"]),
    ]
    for (name, dependencies) in fuzzTargets {
        package.targets.append(
            .executableTarget(name: name, dependencies: dependencies + ["FuzzSupport"], path: "Tests/Fuzz/\(name)"))
    }
}
