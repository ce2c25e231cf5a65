import GuestAccessClient
@testable import GuestLoadKit
import Testing

/// The run's records: kept in chunks while the run goes, joined and sorted
/// by `finish()`, error texts stored once and found again after a merge.
@Suite("guest-load results")
struct LoadResultTests {
  /// `count` calls of `worker` starting at `offset`, every `every`-th failing with `error`.
  static func result(worker: Int, count: Int, offset: UInt64, failing every: Int, with error: String) -> LoadResult {
    var result = LoadResult()
    for index in 0..<count {
      let fails = index % every == 0
      let record = CallRecord(
        worker: worker, offset: offset + UInt64(index) * 10, latency: 5, code: fails ? .unavailable : .ok, messages: fails ? 0 : 1,
        firstMessage: nil)
      result.record(record, error: fails ? error : nil, countErrors: false)
    }
    return result
  }

  @Test func mergedChunksKeepEveryRecordAndItsErrorText() {
    // 5,000 records cross several chunk boundaries (1,024, then 2,048, …).
    var merged = Self.result(worker: 0, count: 5000, offset: 1, failing: 7, with: "UNAVAILABLE: first")
    merged.merge(Self.result(worker: 1, count: 3000, offset: 2, failing: 3, with: "UNAVAILABLE: second"))
    merged.merge(Self.result(worker: 2, count: 10, offset: 3, failing: 2, with: "UNAVAILABLE: first"))
    #expect(merged.count == 8010)
    merged.finish()
    #expect(merged.records.count == 8010)
    #expect(zip(merged.records, merged.records.dropFirst()).allSatisfy { $0.offset <= $1.offset })
    #expect(merged.errorTexts == ["UNAVAILABLE: first", "UNAVAILABLE: second"])
    for record in merged.records {
      let expected: String? = switch (record.worker, record.code) {
      case (_, .ok): nil
      case (1, _): "UNAVAILABLE: second"
      default: "UNAVAILABLE: first"
      }
      #expect(merged.error(of: record) == expected)
    }
    #expect(merged.errors == ["UNAVAILABLE: first": 715 + 5, "UNAVAILABLE: second": 1000])
    #expect(merged.codes == [.ok: 8010 - 1720, .unavailable: 1720])
  }
}
