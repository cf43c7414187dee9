// The Node.js peer `make bench` races the Python authorizer against (tests/bench/node.py): what many
// teams write instead, a REQUEST authorizer built from `jose` and the AWS SDK v3. It does the same
// work: verify an RS256 access token against a JWKS (signature, alg, typ, issuer, audience, expiry),
// then read the same four revocation keys in one strongly consistent BatchGetItem, and answer with
// an Allow policy or throw "Unauthorized". Loaded as is (node_modules) or bundled by esbuild, as
// CDK's NodejsFunction deploys it; run.mjs times it.
//
// Environment: JWKS (the JSON key set), ISSUER, AUDIENCE, DENYLIST_TABLE, AWS_ENDPOINT_URL (the
// bench's loopback moto server), AWS_REGION and fake credentials.
import { createHash } from "node:crypto";

import { BatchGetItemCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createLocalJWKSet, jwtVerify } from "jose";

const GLOBAL_SHARDS = 32;
const BEARER = /^[Bb][Ee][Aa][Rr][Ee][Rr] ([A-Za-z0-9_.-]+)$/;
const jwks = createLocalJWKSet(JSON.parse(process.env.JWKS));
const table = process.env.DENYLIST_TABLE;
export const dynamodb = new DynamoDBClient({
  region: process.env.AWS_REGION,
  endpoint: process.env.AWS_ENDPOINT_URL,
  maxAttempts: 3,
});

function globalKey(sid) {
  return `NBF#*#${createHash("sha256").update(sid).digest()[0] % GLOBAL_SHARDS}`;
}

export async function handler(event) {
  const match = BEARER.exec(event.headers?.Authorization ?? "");
  if (!match) throw new Error("Unauthorized");
  let payload;
  try {
    ({ payload } = await jwtVerify(match[1], jwks, {
      algorithms: ["RS256"],
      typ: "at+jwt",
      issuer: process.env.ISSUER,
      audience: process.env.AUDIENCE,
      clockTolerance: 10,
      requiredClaims: ["sub", "iat", "exp", "jti", "sid"],
    }));
  } catch {
    throw new Error("Unauthorized");
  }
  const names = [`JTI#${payload.jti}`, `SID#${payload.sid}`, `NBF#${payload.sub}`, globalKey(payload.sid)];
  const answer = await dynamodb.send(
    new BatchGetItemCommand({
      RequestItems: { [table]: { Keys: names.map((pk) => ({ pk: { S: pk } })), ConsistentRead: true } },
    }),
  );
  if (Object.keys(answer.UnprocessedKeys ?? {}).length) throw new Error("Unauthorized");
  const now = Math.floor(Date.now() / 1000);
  const live = new Map(
    (answer.Responses?.[table] ?? [])
      .filter((item) => !item.ttl || Number(item.ttl.N) > now)
      .map((item) => [item.pk.S, item]),
  );
  if (live.has(names[0]) || live.has(names[1])) throw new Error("Unauthorized");
  const notBefore = Math.max(0, ...names.slice(2).map((name) => Number(live.get(name)?.not_before?.N ?? 0)));
  if (Math.round(payload.iat * 1000) <= notBefore) throw new Error("Unauthorized");
  const base = event.methodArn.split("/").slice(0, 2).join("/");
  return {
    principalId: payload.sub,
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: [`${base}/GET/cars`] }],
    },
    context: { sub: payload.sub, sid: payload.sid, role: payload.role, type: payload.type },
  };
}
