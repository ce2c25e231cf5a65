import Foundation

/// Inline SVG charts for the HTML report: no script, no external resource.
enum SVGChart {
  /// A named line of (x, y) points.
  struct Series {
    var name: String
    var color: String
    var points: [(x: Double, y: Double)]
  }

  static let width = 900.0, height = 280.0
  static let left = 80.0, right = 20.0, top = 20.0, bottom = 50.0

  /// Lines over a shared x axis, with axis labels and a legend.
  static func lines(_ series: [Series], xLabel: String, yLabel: String, yFormat: (Double) -> String) -> String {
    let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }
    let xMax = max(xs.max() ?? 1, 1e-9)
    let (yStep, yMax) = niceAxis(ys.max() ?? 1)
    var svg = open(title: yLabel)
    svg += axes(xMax: xMax, yStep: yStep, yMax: yMax, xLabel: xLabel, yLabel: yLabel, xFormat: { trim($0) + " s" }, yFormat: yFormat)
    for (i, line) in series.enumerated() {
      let points = line.points.map { "\(fmt(x($0.x, xMax))),\(fmt(y($0.y, yMax)))" }.joined(separator: " ")
      svg += "<polyline class=\"series\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2\" points=\"\(points)\"/>\n"
      for point in line.points where line.points.count <= 80 {
        svg += "<circle cx=\"\(fmt(x(point.x, xMax)))\" cy=\"\(fmt(y(point.y, yMax)))\" r=\"2.5\" fill=\"\(line.color)\"/>\n"
      }
      let lx = left + 10 + Double(i) * 110
      svg += "<rect x=\"\(fmt(lx))\" y=\"\(fmt(top + 4))\" width=\"14\" height=\"4\" fill=\"\(line.color)\"/>"
      svg += "<text x=\"\(fmt(lx + 18))\" y=\"\(fmt(top + 10))\" class=\"legend\">\(HTMLReport.escape(line.name))</text>\n"
    }
    return svg + "</svg>\n"
  }

  /// Vertical bars with a label under each.
  static func bars(_ values: [(label: String, value: Double)], color: String, yLabel: String) -> String {
    let (yStep, yMax) = niceAxis(values.map(\.value).max() ?? 1)
    var svg = open(title: yLabel)
    svg += axes(xMax: nil, yStep: yStep, yMax: yMax, xLabel: "", yLabel: yLabel, xFormat: { _ in "" }, yFormat: { trim($0) })
    let plot = width - left - right
    let slot = plot / Double(max(1, values.count))
    for (i, bar) in values.enumerated() {
      let x0 = left + slot * Double(i) + slot * 0.1
      let y0 = y(bar.value, yMax)
      svg += "<rect class=\"bar\" x=\"\(fmt(x0))\" y=\"\(fmt(y0))\" width=\"\(fmt(slot * 0.8))\" height=\"\(fmt(height - bottom - y0))\" fill=\"\(color)\">"
      svg += "<title>\(HTMLReport.escape(bar.label)): \(trim(bar.value))</title></rect>\n"
      svg += "<text x=\"\(fmt(x0 + slot * 0.4))\" y=\"\(fmt(height - bottom + 16))\" class=\"tick\" text-anchor=\"middle\">\(HTMLReport.escape(bar.label))</text>\n"
      if bar.value > 0 {
        svg += "<text x=\"\(fmt(x0 + slot * 0.4))\" y=\"\(fmt(y0 - 4))\" class=\"tick\" text-anchor=\"middle\">\(trim(bar.value))</text>\n"
      }
    }
    return svg + "</svg>\n"
  }

  private static func open(title: String) -> String {
    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" role=\"img\" aria-label=\"\(HTMLReport.escape(title))\">\n"
  }

  private static func axes(
    xMax: Double?, yStep: Double, yMax: Double, xLabel: String, yLabel: String, xFormat: (Double) -> String, yFormat: (Double) -> String
  ) -> String {
    var svg = ""
    for i in 0...Int((yMax / yStep).rounded()) {
      let value = yStep * Double(i)
      let yy = y(value, yMax)
      svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(yy))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(yy))\" class=\"grid\"/>"
      svg += "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(yy + 4))\" class=\"tick\" text-anchor=\"end\">\(HTMLReport.escape(yFormat(value)))</text>\n"
    }
    if let xMax {
      let step = TimeAxis.niceStep(xMax / 8)
      var value = 0.0
      while value <= xMax + 1e-9 {
        let xx = x(value, xMax)
        svg += "<line x1=\"\(fmt(xx))\" y1=\"\(fmt(height - bottom))\" x2=\"\(fmt(xx))\" y2=\"\(fmt(height - bottom + 4))\" class=\"axis\"/>"
        svg += "<text x=\"\(fmt(xx))\" y=\"\(fmt(height - bottom + 16))\" class=\"tick\" text-anchor=\"middle\">\(HTMLReport.escape(xFormat(value)))</text>\n"
        value += step
      }
    }
    svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(height - bottom))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(height - bottom))\" class=\"axis\"/>\n"
    svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(top))\" x2=\"\(fmt(left))\" y2=\"\(fmt(height - bottom))\" class=\"axis\"/>\n"
    if !xLabel.isEmpty {
      svg += "<text x=\"\(fmt((left + width - right) / 2))\" y=\"\(fmt(height - 10))\" class=\"label\" text-anchor=\"middle\">\(HTMLReport.escape(xLabel))</text>\n"
    }
    svg += "<text x=\"14\" y=\"\(fmt((top + height - bottom) / 2))\" class=\"label\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(fmt((top + height - bottom) / 2)))\">\(HTMLReport.escape(yLabel))</text>\n"
    return svg
  }

  private static func x(_ value: Double, _ xMax: Double) -> Double { left + (width - left - right) * value / xMax }
  private static func y(_ value: Double, _ yMax: Double) -> Double { height - bottom - (height - bottom - top) * value / yMax }

  /// A round tick step for an axis up to `value`, and the axis top (a whole number of steps, at most 5).
  static func niceAxis(_ value: Double) -> (step: Double, top: Double) {
    guard value > 0, value.isFinite else { return (1, 1) }
    let step = TimeAxis.niceStep(value / 5)
    return (step, max(1, (value / step).rounded(.up)) * step)
  }

  static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

  /// A number without trailing zeros, e.g. `2.5`, `1200`.
  static func trim(_ value: Double) -> String {
    if value.rounded() == value && abs(value) < 1e15 { return String(Int64(value)) }
    let text = String(format: "%.3f", value)
    var trimmed = text
    while trimmed.hasSuffix("0") { trimmed.removeLast() }
    if trimmed.hasSuffix(".") { trimmed.removeLast() }
    return trimmed
  }
}
