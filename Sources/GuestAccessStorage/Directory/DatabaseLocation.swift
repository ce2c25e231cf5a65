/// Where the directory lives: an SQLite file (one guestd) or a PostgreSQL
/// database (several guestd behind a load balancer).
///
/// Written as `sqlite:PATH` or as a libpq connection URI
/// (`postgres://user@host:port/db?sslmode=verify-full`, `postgresql://…`),
/// which is handed to libpq as is: its parameters, `PGPASSFILE`, `PGSSLROOTCERT`
/// and the other `PG*` variables work as PostgreSQL users expect.
public enum DatabaseLocation: Sendable, Hashable, CustomStringConvertible {
  /// An SQLite database file.
  case sqlite(path: String)
  /// A PostgreSQL connection URI.
  case postgres(uri: String)

  /// Parses `sqlite:PATH`, `postgres://…` or `postgresql://…`.
  /// - Throws: `DatabaseLocationError` naming what is accepted.
  public init(_ text: String) throws(DatabaseLocationError) {
    if text.hasPrefix("sqlite:") {
      var path = String(text.dropFirst("sqlite:".count))
      // sqlite:///abs/path and sqlite://rel/path read as paths too.
      if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
      guard !path.isEmpty else { throw DatabaseLocationError(text: text) }
      self = .sqlite(path: path)
    } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
      self = .postgres(uri: text)
    } else {
      throw DatabaseLocationError(text: text)
    }
  }

  /// The default: `guestaccess.sqlite` in the data directory.
  public static func sqlite(dataDir: String) -> DatabaseLocation {
    .sqlite(path: dataDir + "/guestaccess.sqlite")
  }

  /// The location without a password (for logs).
  public var description: String {
    switch self {
    case .sqlite(let path): return "sqlite:" + path
    case .postgres(let uri): return Self.redactingPassword(uri)
    }
  }

  /// `postgres://user:secret@host/db` as `postgres://user:***@host/db`.
  public static func redactingPassword(_ uri: String) -> String {
    guard let slash = uri.firstIndex(of: "/"), uri[slash...].hasPrefix("//") else { return uri }
    let rest = uri[uri.index(slash, offsetBy: 2)...]
    let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
    guard let at = rest[..<authorityEnd].lastIndex(of: "@"),
      let colon = rest[..<at].firstIndex(of: ":")
    else { return uri }
    return String(uri[..<rest.index(after: colon)]) + "***" + String(rest[at...])
  }
}

/// A `--database` value that is neither `sqlite:PATH` nor a PostgreSQL URI.
public struct DatabaseLocationError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The value given.
  public var text: String

  public var description: String {
    "--database (GUESTD_DATABASE_URL) must be sqlite:PATH or postgres://USER@HOST:PORT/DB[?PARAMS], got \"\(DatabaseLocation.redactingPassword(text))\""
  }
}
