// swift-tools-version:6.0
import PackageDescription

// Every module is one subsystem; docs/architecture.md's "Dependency rules" say what each may
// import (make test checks them): pure modules import only GatewayCore (IoTDA also swift-crypto),
// C libraries stay behind the module that adapts them.
//
// Platforms: Linux only (Debian 12 on x86-64 and arm64 edge boxes). The NB-IoT server waits on
// epoll and takes listening sockets over with SO_REUSEPORT.
// SwiftPM's `platforms` can name only Apple systems, so there is no entry here; building
// anywhere but Linux stops at Sources/GatewayCore/LinuxOnly.swift with that reason.
let package = Package(
    name: "edgegw",
    products: [
        .executable(name: "edgegw", targets: ["edgegw"]),
        .executable(name: "edgegw-nbiot-sim", targets: ["edgegw-nbiot-sim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries from Debian, found through pkg-config.
        .systemLibrary(name: "CCoAP", pkgConfig: "libcoap-3-gnutls", providers: [.apt(["libcoap3-dev"])]),
        .systemLibrary(name: "CModbus", pkgConfig: "libmodbus", providers: [.apt(["libmodbus-dev"])]),
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),

        // Pure modules.
        .target(name: "GatewayCore"),
        .target(name: "IoTDA", dependencies: ["GatewayCore", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "PCP", dependencies: ["GatewayCore"]),
        .target(name: "LwM2MContent"),
        .target(name: "Bootstrap", dependencies: ["LwM2MContent"]),
        .target(name: "DeviceCodec", dependencies: ["GatewayCore"]),
        .target(name: "SerialFraming", dependencies: ["GatewayCore"]),

        // Adapters and services.
        .target(name: "Config", dependencies: ["GatewayCore"]),
        .target(name: "Store", dependencies: ["GatewayCore", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "PackageCache", dependencies: [
            "GatewayCore", "Store",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "LwM2M", dependencies: [
            "GatewayCore", "CCoAP", "PCP", "Bootstrap",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
        ]),
        .target(name: "Modbus", dependencies: [
            "GatewayCore", "CModbus",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
        ]),
        .target(name: "Serial", dependencies: [
            "GatewayCore", "SerialFraming",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "CloudLink", dependencies: [
            "GatewayCore", "CMosquitto", "COpenSSL", "Store",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
        ]),
        // The Prometheus endpoint: the registry and a small HTTP/1.1 server for GET /metrics.
        .target(name: "MetricsEndpoint", dependencies: [
            "GatewayCore",
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "Upgrade", dependencies: [
            "GatewayCore", "PCP", "IoTDA", "Store",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The admin socket behind edgegw status, devices and trace: server, client, protocol.
        .target(name: "Admin", dependencies: [
            "GatewayCore",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "Gateway", dependencies: [
            "GatewayCore", "Config", "Store", "IoTDA", "CloudLink", "Modbus", "LwM2M", "Serial", "SerialFraming", "DeviceCodec", "PCP", "PackageCache", "Upgrade", "Bootstrap", "MetricsEndpoint", "Admin",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "edgegw", dependencies: [
            "Gateway", "GatewayCore", "Config", "DeviceCodec", "IoTDA", "PCP", "Admin",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Tools, in Tools/ apart from the product's modules: not part of the daemon.
        // A simulated NB-IoT module on libcoap's client API (tests, demo, bench).
        .target(name: "LwM2MSimulator", dependencies: [
            "GatewayCore", "CCoAP", "PCP", "LwM2MContent", .product(name: "Crypto", package: "swift-crypto"),
        ], path: "Tools/LwM2MSimulator"),
        .executableTarget(name: "edgegw-nbiot-sim", dependencies: [
            "LwM2MSimulator", "LwM2M", "GatewayCore", "Gateway", "PCP", "IoTDA", "Upgrade", "PackageCache", "Store", "Bootstrap",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Tools/edgegw-nbiot-sim"),
        // Benchmark of the cloud path (scripts/bench-cloud.sh).
        .executableTarget(name: "edgegw-bench-cloud", dependencies: [
            "CloudLink", "CMosquitto", "GatewayCore", "Store",
            .product(name: "Logging", package: "swift-log"),
        ], path: "Tools/edgegw-bench-cloud"),
        // Modbus benchmark: edgegw's polling path against a bare libmodbus loop (scripts/bench-modbus.sh).
        .executableTarget(name: "ModbusBench", dependencies: [
            "Modbus", "CModbus", "GatewayCore",
            .product(name: "Logging", package: "swift-log"),
        ], path: "Tools/ModbusBench"),
        // Serial benchmark: edgegw's serial path (SerialService, its port thread, framer and the product
        // codec) at a 115,200-baud line's rate and flat out, against a bare read loop (scripts/bench-serial.sh).
        .executableTarget(name: "SerialBench", dependencies: [
            "Serial", "SerialFraming", "Gateway", "GatewayCore", "Config",
            .product(name: "Logging", package: "swift-log"),
        ], path: "Tools/SerialBench"),
        // Fuzz targets for every parser of outside input (README "Fuzzing", scripts/fuzz.sh): the
        // library's targets are replayed by FuzzCorpusTests; the executable is libFuzzer's driver when
        // built with -DFUZZING, a replay tool otherwise. No Gateway, to keep the instrumented build small.
        .target(name: "FuzzTargets", dependencies: [
            "GatewayCore", "Config", "DeviceCodec", "PCP", "LwM2M", "LwM2MContent", "Bootstrap", "IoTDA", "Modbus", "Serial", "SerialFraming",
        ], path: "Tools/FuzzTargets"),
        .executableTarget(name: "edgegw-fuzz", dependencies: ["FuzzTargets"], path: "Tools/edgegw-fuzz"),

        // Test support: free ports, child processes, temporary directories, real peers.
        .target(name: "TestSupport", dependencies: ["GatewayCore", .product(name: "Logging", package: "swift-log")],
                path: "Tests/Support"),

        .testTarget(name: "GatewayCoreTests", dependencies: ["GatewayCore", "TestSupport"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "GatewayCore", "TestSupport"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "GatewayCore", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "IoTDATests", dependencies: ["IoTDA", "GatewayCore", "TestSupport"]),
        .testTarget(name: "PCPTests", dependencies: ["PCP", "GatewayCore"]),
        .testTarget(name: "LwM2MContentTests", dependencies: ["LwM2MContent"]),
        .testTarget(name: "SerialFramingTests", dependencies: ["SerialFraming", "GatewayCore", "Config", "TestSupport"]),
        .testTarget(name: "SerialTests", dependencies: ["Serial", "SerialFraming", "GatewayCore", "Config", "TestSupport"]),
        .testTarget(name: "BootstrapTests", dependencies: ["Bootstrap", "LwM2MContent", "GatewayCore"]),
        .testTarget(name: "DeviceCodecTests", dependencies: ["DeviceCodec", "Config", "GatewayCore", "TestSupport"],
                    resources: [.copy("Corpus")]),
        .testTarget(name: "LwM2MTests", dependencies: [
            "LwM2M", "LwM2MSimulator", "CCoAP", "GatewayCore", "PCP", "Bootstrap", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["Interop"]),
        .testTarget(name: "ModbusTests", dependencies: [
            "Modbus", "GatewayCore", "Config", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "CloudLinkTests", dependencies: [
            "CloudLink", "IoTDA", "Store", "GatewayCore", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "GatewayTests", dependencies: [
            "Gateway", "Config", "GatewayCore", "TestSupport", "CloudLink", "IoTDA", "Store", "LwM2M", "LwM2MSimulator", "Bootstrap", "Admin", "Serial", "SerialFraming",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "PackageCacheTests", dependencies: [
            "PackageCache", "Store", "GatewayCore", "TestSupport",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["https_server.py"]),
        .testTarget(name: "UpgradeTests", dependencies: [
            "Upgrade", "PCP", "IoTDA", "Store", "GatewayCore", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "MetricsEndpointTests", dependencies: [
            "MetricsEndpoint", "TestSupport",
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "EdgegwTests", dependencies: ["TestSupport", "IoTDA", "Store", "GatewayCore", "LwM2MSimulator"]),
        .testTarget(name: "FuzzCorpusTests", dependencies: ["FuzzTargets", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
