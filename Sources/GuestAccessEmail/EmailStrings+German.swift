extension EmailStrings {
  /// German.
  public static let german = EmailStrings(
    language: "de",
    date: { time in
      let months = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"]
      return "\(time.day). \(months[time.month - 1]) \(time.year), \(time.hourMinute) UTC"
    },
    senderName: { sender, tenant in "\(sender) im Auftrag von \(tenant)" },
    greeting: { name in name.isEmpty ? "Hallo," : "Hallo \(name)," },
    invitationSubject: { inviter, tenant in "\(inviter) hat Sie zum Zugriff auf Anwendungen von \(tenant) eingeladen" },
    invitationIntro: { inviter, mail, tenant in
      let who = mail.isEmpty ? inviter : "\(inviter) (\(mail))"
      return "\(who) hat Sie eingeladen, als Gast mit \(tenant) zusammenzuarbeiten. Sie melden sich weiterhin mit Ihrem eigenen Konto an."
    },
    customMessageHeading: { inviter in "Nachricht von \(inviter):" },
    acceptButton: "Einladung annehmen",
    acceptLinkIntro: "Öffnen Sie diesen Link, um die Einladung anzunehmen:",
    invitationExpiry: { date in "Diese Einladung läuft am \(date) ab." },
    invitationIgnore: "Wenn Sie diese Einladung nicht erwartet haben, können Sie diese E-Mail ignorieren. Nehmen Sie nur Einladungen von Personen und Organisationen an, denen Sie vertrauen.",
    passcodeSubject: { tenant in "Ihr Bestätigungscode für \(tenant)" },
    passcodeIntro: { tenant in "Mit diesem Code schließen Sie die Annahme Ihrer Einladung zu \(tenant) ab:" },
    passcodeExpiry: { date in "Der Code läuft am \(date) ab. Geben Sie ihn dort ein, wo Sie mit der Annahme der Einladung begonnen haben." },
    passcodeIgnore: "Wenn Sie keinen Code angefordert haben, hat vielleicht jemand Ihre E-Mail-Adresse versehentlich eingegeben. Sie können diese E-Mail ignorieren.",
    signInPasscodeIntro: { tenant in "Mit diesem Code melden Sie sich als Gast bei \(tenant) an:" },
    signInPasscodeExpiry: { date in "Der Code läuft am \(date) ab. Geben Sie ihn dort ein, wo Sie mit der Anmeldung begonnen haben." },
    footer: { tenant in "Gesendet von GuestAccess im Auftrag von \(tenant)." })
}
