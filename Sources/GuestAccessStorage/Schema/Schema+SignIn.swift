extension Schema {
  /// Version 8: passcode sign-in sessions of accepted email passcode guests.
  static let signInSessions = Migration(version: 8, name: "passcode sign-in sessions", sql: """
    CREATE TABLE sign_in_sessions (
      id TEXT PRIMARY KEY,
      tenant_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      email TEXT NOT NULL,
      passcode_hash BLOB NOT NULL,
      expires_at INTEGER NOT NULL,
      attempts INTEGER NOT NULL,
      max_attempts INTEGER NOT NULL,
      state INTEGER NOT NULL,
      created_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX sign_in_sessions_created ON sign_in_sessions(created_at);
    """)
}
