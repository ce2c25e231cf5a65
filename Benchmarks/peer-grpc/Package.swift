// swift-tools-version:6.0
// The peer comparison of Scripts/bench-peer: a grpc-swift 2 unary echo over
// HTTP/2 (NIO) with the same payload sizes as GuestAccess's Health.Check.
// A separate package: not built by CI, not a dependency of GuestAccess.
import PackageDescription

let package = Package(
  name: "peer-grpc",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(url: "https://github.com/grpc/grpc-swift-2", exact: "2.4.3"),
    .package(url: "https://github.com/grpc/grpc-swift-nio-transport", exact: "2.9.2"),
  ],
  targets: [
    .executableTarget(
      name: "peer-grpc",
      dependencies: [
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
      ],
      swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
    )
  ]
)
