// Passkeys in the web client (`node --test`): the JSON encoding of WebAuthn options and credentials
// both ways, and the two ceremonies against a stub API and a stub navigator.credentials.

import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";

import { createAuthClient, creationOptionsFromJSON, credentialToJSON, requestOptionsFromJSON } from "../index.js";

const BASE = "https://api.test/prod";
const USER = { id: "u-1", email: "admin@dealership.example", name: "Avery Admin", role: "admin", type: "admin" };
const b64url = (bytes) => Buffer.from(bytes).toString("base64url");
const bytesOf = (buffer) => [...new Uint8Array(buffer)];
const buffer = (values) => new Uint8Array(values).buffer;

const clients = [];
let names = 0;
afterEach(() => {
  for (const created of clients.splice(0)) created.close();
});

// A stub API: records each request, answers by path.
function stubApi(answers) {
  const requests = [];
  const fetch = async (url, init = {}) => {
    const path = new URL(url).pathname.replace("/prod", "");
    const body = init.body === undefined ? undefined : JSON.parse(init.body);
    requests.push({ path, init, body, headers: new Headers(init.headers) });
    const [status, json] = answers[path] || [404, { message: "Not found" }];
    return new Response(JSON.stringify(json), { status, headers: { "Content-Type": "application/json" } });
  };
  return { fetch, requests };
}

function client(fetch, credentials) {
  names += 1;
  const created = createAuthClient({ baseUrl: BASE, fetch, name: `passkeys-${names}`, autoRefresh: false, credentials });
  clients.push(created);
  return created;
}

const tokens = {
  access_token: `${b64url(Buffer.from('{"alg":"RS256"}'))}.${b64url(Buffer.from(JSON.stringify({ sub: USER.id })))}.sig`,
  token_type: "Bearer",
  expires_in: 900,
  type: "admin",
  user: USER,
};

function assertion() {
  return {
    id: b64url([1, 2, 3]),
    rawId: buffer([1, 2, 3]),
    type: "public-key",
    authenticatorAttachment: "platform",
    getClientExtensionResults: () => ({}),
    response: {
      clientDataJSON: buffer([123, 125]),
      authenticatorData: buffer([9, 9]),
      signature: buffer([255, 254]),
      userHandle: buffer([117, 45, 49]),
    },
  };
}

describe("the JSON encoding", () => {
  test("creation options decode their challenge, user id and excluded credentials", () => {
    const options = creationOptionsFromJSON({
      challenge: b64url([0, 1, 250, 251]),
      rp: { id: "example.com", name: "x" },
      user: { id: b64url([117, 45, 49]), name: "a", displayName: "A" },
      excludeCredentials: [{ id: b64url([7, 8]), type: "public-key", transports: ["internal"] }],
    });
    assert.deepEqual(bytesOf(options.challenge), [0, 1, 250, 251]);
    assert.deepEqual(bytesOf(options.user.id), [117, 45, 49]);
    assert.deepEqual(bytesOf(options.excludeCredentials[0].id), [7, 8]);
    assert.deepEqual(options.excludeCredentials[0].transports, ["internal"]);
  });

  test("request options decode their challenge and keep an empty allow list", () => {
    const options = requestOptionsFromJSON({ challenge: b64url([5, 6]), rpId: "example.com", allowCredentials: [] });
    assert.deepEqual(bytesOf(options.challenge), [5, 6]);
    assert.deepEqual(options.allowCredentials, []);
  });

  test("an assertion and a new credential encode as base64url", () => {
    const encoded = credentialToJSON(assertion());
    assert.equal(encoded.rawId, b64url([1, 2, 3]));
    assert.equal(encoded.response.signature, b64url([255, 254]));
    assert.equal(encoded.response.userHandle, b64url([117, 45, 49]));
    const created = credentialToJSON({
      id: "x",
      rawId: buffer([1]),
      type: "public-key",
      response: { clientDataJSON: buffer([1]), attestationObject: buffer([2, 3]), getTransports: () => ["usb"] },
    });
    assert.equal(created.response.attestationObject, b64url([2, 3]));
    assert.deepEqual(created.response.transports, ["usb"]);
    assert.equal(created.response.signature, undefined);
  });
});

describe("the ceremonies", () => {
  test("loginWithPasskey gets options, signs, and adopts the session in cookie mode", async () => {
    const api = stubApi({
      "/auth/login/passkey/options": [200, { challenge: b64url([4, 2]), rpId: "example.com", allowCredentials: [] }],
      "/auth/login/passkey": [200, tokens],
    });
    const asked = [];
    const credentials = { get: async (options) => { asked.push(options); return assertion(); } };
    const auth = client(api.fetch, credentials);
    const user = await auth.loginWithPasskey();
    assert.equal(user.email, USER.email);
    assert.deepEqual(bytesOf(asked[0].publicKey.challenge), [4, 2]);
    const [options, signIn] = api.requests;
    assert.deepEqual(options.body, {});
    assert.equal(signIn.body.credential.rawId, b64url([1, 2, 3]));
    assert.equal(signIn.headers.get("X-Token-Transport"), "cookie");
    assert.equal(signIn.init.credentials, "include");
  });

  test("a refused passkey rejects with the 401 and signs nobody in", async () => {
    const api = stubApi({
      "/auth/login/passkey/options": [200, { challenge: b64url([1]), rpId: "example.com", allowCredentials: [] }],
      "/auth/login/passkey": [401, { message: "Invalid credentials" }],
    });
    const auth = client(api.fetch, { get: async () => assertion() });
    await assert.rejects(auth.loginWithPasskey(), (error) => error.status === 401);
    assert.equal(auth.user, null);
  });

  test("a cancelled ceremony rejects without a second request", async () => {
    const api = stubApi({
      "/auth/login/passkey/options": [200, { challenge: b64url([1]), rpId: "example.com", allowCredentials: [] }],
    });
    const cancelled = Object.assign(new Error("cancelled"), { name: "NotAllowedError" });
    const auth = client(api.fetch, { get: async () => { throw cancelled; } });
    await assert.rejects(auth.loginWithPasskey(), /cancelled/);
    assert.equal(api.requests.length, 1);
  });

  test("registerPasskey sends the bearer token and the name, and answers the stored passkey", async () => {
    const stored = { id: "AQID", name: "Laptop", created_at: "2026-01-01T00:00:00+00:00", last_used_at: null, transports: ["internal"], synced: false };
    const api = stubApi({
      "/auth/login/passkey/options": [200, { challenge: b64url([1]), rpId: "example.com", allowCredentials: [] }],
      "/auth/login/passkey": [200, tokens],
      "/auth/passkeys/register/options": [200, {
        challenge: b64url([3]), rp: { id: "example.com", name: "x" }, user: { id: b64url([1]), name: "a", displayName: "A" },
        pubKeyCredParams: [], excludeCredentials: [],
      }],
      "/auth/passkeys/register": [201, stored],
    });
    const credentials = {
      get: async () => assertion(),
      create: async () => ({
        id: "AQID", rawId: buffer([1, 2, 3]), type: "public-key",
        response: { clientDataJSON: buffer([1]), attestationObject: buffer([2]), getTransports: () => ["internal"] },
      }),
    };
    const auth = client(api.fetch, credentials);
    await auth.loginWithPasskey();
    assert.deepEqual(await auth.registerPasskey({ name: "Laptop" }), stored);
    const register = api.requests.find((request) => request.path === "/auth/passkeys/register");
    assert.match(register.headers.get("Authorization"), /^Bearer /);
    assert.equal(register.body.name, "Laptop");
    assert.equal(register.body.credential.response.attestationObject, b64url([2]));
  });

  test("registerPasskey with a login too old rejects with the step-up 403", async () => {
    const api = stubApi({
      "/auth/login/passkey/options": [200, { challenge: b64url([1]), rpId: "example.com", allowCredentials: [] }],
      "/auth/login/passkey": [200, tokens],
      "/auth/passkeys/register/options": [403, { message: "A fresh sign-in is needed", error: "insufficient_user_authentication", max_age: 900 }],
    });
    const auth = client(api.fetch, { get: async () => assertion(), create: async () => assert.fail("no ceremony") });
    await auth.loginWithPasskey();
    const stepUps = [];
    auth.onStepUp((event) => stepUps.push(event));
    await assert.rejects(auth.registerPasskey(), (error) => error.status === 403 && error.body.max_age === 900);
    assert.deepEqual(stepUps, [{ path: "/auth/passkeys/register/options", maxAge: 900 }]);
  });
});
