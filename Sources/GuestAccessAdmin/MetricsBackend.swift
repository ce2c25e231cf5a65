import CoreMetrics
import GuestAccessLocks
import Prometheus

/// Chooses the Prometheus backend for swift-metrics, once per process.
public enum MetricsBackend {
  private static let bootstrapped = LockedValue<PrometheusCollectorRegistry?>(nil)

  /// The process's registry, bootstrapping swift-metrics with it on first use.
  public static func prometheus() -> PrometheusCollectorRegistry {
    bootstrapped.withLock { registry in
      if let registry { return registry }
      let created = PrometheusCollectorRegistry()
      var factory = PrometheusMetricsFactory(registry: created)
      factory.defaultDurationHistogramBuckets = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(5),
      ]
      MetricsSystem.bootstrap(factory)
      registry = created
      return created
    }
  }

  /// The Prometheus text exposition of `registry` (what `GET /metrics` serves).
  public static func exposition(of registry: PrometheusCollectorRegistry) -> [UInt8] {
    var bytes: [UInt8] = []
    registry.emit(into: &bytes)
    return bytes
  }
}
