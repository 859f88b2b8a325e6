"""Electronic signatures (ЭЦП, NCA RK): certificates, key files, detached CMS, acceptance documents.

Pure modules — no Flask, no database:
- `certs`: what a certificate says (holder, IIN, BIN, organisation, issuer, validity, signing or login
  key) and whether it chains to a trusted CA and is not revoked;
- `pkcs12`: reads a key file far enough to tell a wrong password from a GOST key;
- `signers`: the `Signer` interface and its backends (PKCS#12 file, NCANode; NCALayer signs in the browser);
- `cms`: make and verify detached CMS signatures over exact bytes;
- `trust`: trusted CAs, CRLs and the signing policy from the configuration;
- `acceptance`: the `transfer-act-acceptance/1` document as canonical JSON, split above 30,000 codes;
- `errors`: `SigningError` and every reason in Russian, Kazakh and English.
"""
