#!/usr/bin/env python3
"""Prints an ID token of the OpenID provider on 127.0.0.1:PORT (oidc-provider-mock)
for CLIENT_ID and SUBJECT, through its authorization code flow as a browser
drives it: the login form posted with the subject, the code redeemed at the
token endpoint. Waits up to 15 s for the provider to answer first.

    usage: oidc-sign-in.py PORT CLIENT_ID SUBJECT
"""
import http.client
import json
import sys
import time
import urllib.parse

port, client_id, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def request(method, path, form=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    body = urllib.parse.urlencode(form) if form is not None else None
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response, response.read()


for _ in range(150):
    try:
        if request("GET", "/.well-known/openid-configuration")[0].status == 200:
            break
    except OSError:
        pass
    time.sleep(0.1)

redirect = "http://127.0.0.1:1/callback"
query = urllib.parse.urlencode({
    "client_id": client_id, "redirect_uri": redirect, "response_type": "code", "scope": "openid email", "state": "s", "nonce": "n"})
consent, _ = request("POST", "/oauth2/authorize?" + query, {"sub": subject})
code = urllib.parse.parse_qs(urllib.parse.urlparse(consent.getheader("Location")).query)["code"][0]
_, token = request("POST", "/oauth2/token", {
    "grant_type": "authorization_code", "code": code, "redirect_uri": redirect, "client_id": client_id, "client_secret": "bench"})
print(json.loads(token)["id_token"])
