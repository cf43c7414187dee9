// An independent verifier, written against RFC 7515/7519 with Node's own crypto only: reads
// {token, jwks, issuer, audience} on stdin, prints the claims, exits 1 if anything is wrong.
// NumericDates must be integers, as strict verifiers demand.
import { createPublicKey, verify } from "node:crypto";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
}));
const [head, body, signature] = input.token.split(".");
const decode = (segment) => JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
const header = decode(head);
const claims = decode(body);
const fail = (why) => { process.stderr.write(why + "\n"); process.exit(1); };

if (header.alg !== "RS256") fail("alg");
const jwk = input.jwks.keys.find((key) => key.kid === header.kid);
if (!jwk) fail("kid");
const ok = verify("sha256", Buffer.from(`${head}.${body}`), createPublicKey({ key: jwk, format: "jwk" }),
  Buffer.from(signature, "base64url"));
if (!ok) fail("signature");
for (const name of ["iat", "exp", "auth_time"]) if (!Number.isInteger(claims[name])) fail(`${name} not an integer`);
const now = Math.floor(Date.now() / 1000);
if (claims.exp <= now || claims.iat > now + 60) fail("time");
if (claims.iss !== input.issuer || claims.aud !== input.audience) fail("iss or aud");
process.stdout.write(JSON.stringify(claims));
