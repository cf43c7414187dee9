// Demo page of the JWT auth service: plain JavaScript, no build step, on the web client package
// (clients/web, served to this page as /auth-client.js): the page has no token logic of its own.
// The client keeps the access token in memory only; the refresh token is an HttpOnly, Secure,
// SameSite=Strict `__Host-` cookie that this page can neither read nor send by itself: the client
// asks for cookie mode with the X-Token-Transport header, which a cross-site form cannot send (the
// CSRF defence). Tabs share the session: one refreshes at a time, and a logout signs out them all.
import { createAuthClient } from "./auth-client.js";

const API = window.API_BASE;
const EMAILS = { admin: "admin@dealership.example", staff: "staff@dealership.example" };
const SIGNED_OUT = {
  logout: ["You are logged out.", "You were logged out in another tab."],
  "logout-all": ["You are logged out on every device.", "You were logged out everywhere from another tab."],
  "session-ended": ["Your session has ended: please sign in again.", "Your session has ended: please sign in again."],
};

let tamperNext = false;
let mfaToken = null; // the login challenge, while a second factor is asked for // "Simulate an expired access token": spoil the next call's token

const $ = (selector) => document.querySelector(selector);

function log(text) {
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $("#log").prepend(item);
  while ($("#log").children.length > 60) $("#log").lastChild.remove();
}

function say(text, isError = false) {
  $("#message").textContent = text;
  $("#message").className = isError ? "message-error" : "";
}

// The fetch the client calls: logs every request and, once asked to, spoils a bearer token.
async function loggedFetch(url, init = {}) {
  const method = init.method || "GET";
  const path = url.startsWith(API) ? url.slice(API.length) : url;
  const headers = new Headers(init.headers);
  const bearer = headers.get("Authorization");
  if (tamperNext && bearer) {
    tamperNext = false;
    const [header, payload, signature] = bearer.slice("Bearer ".length).split(".");
    const flipped = (signature[0] === "A" ? "B" : "A") + signature.slice(1);
    headers.set("Authorization", `Bearer ${header}.${payload}.${flipped}`);
  }
  try {
    const response = await fetch(url, { ...init, headers });
    log(`${method} ${path} -> ${response.status}`);
    if (path === "/auth/refresh" && response.ok) log("access token renewed from the refresh cookie");
    return response;
  } catch (error) {
    log(`${method} ${path} failed: ${error.message}`);
    throw error;
  }
}

const auth = createAuthClient({ baseUrl: API, transport: "cookie", fetch: loggedFetch });

// An API call through the client (bearer token, one transparent refresh on a 401).
async function api(method, path, { body } = {}) {
  let response;
  try {
    response = await auth.fetch(path, {
      method,
      headers: body === undefined ? undefined : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    return { status: 0, ok: false, data: { message: "The API cannot be reached" } };
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { message: text }; }
  }
  return { status: response.status, ok: response.ok, data };
}

function explain(result) {
  if (result.status === 403 && result.data && result.data.error === "insufficient_user_authentication") {
    const minutes = Math.round((Number(result.data.max_age) || 0) / 60);
    return `This action needs a fresh login with a second factor (within ${minutes} min): sign in again with it.`;
  }
  if (result.status === 403) return "Not allowed for your role (403 from the gateway).";
  if (result.status === 429) return "Too many attempts: try again later.";
  return (result.data && result.data.message) || result.message || `HTTP ${result.status}`;
}

// -- screens -------------------------------------------------------------------------------------

function signedOut(reason = "") {
  $("#app").hidden = true;
  $("#invite").hidden = true;
  $("#mfa").hidden = true;
  mfaToken = null;
  $("#login").hidden = false;
  $("#login-error").textContent = reason;
  $("#cars tbody").replaceChildren();
  $("#sessions tbody").replaceChildren();
  $("#passkeys tbody").replaceChildren();
  $("#password").value = "";
}

async function signedIn(user) {
  $("#login").hidden = true;
  $("#mfa").hidden = true;
  mfaToken = null;
  $("#app").hidden = false;
  $("#login-error").textContent = "";
  say("");
  $("#who").textContent = `Signed in as ${user.name} (${user.email}), type ${user.type}, role ${user.role}`;
  $("#invite").hidden = user.role !== "admin";
  await Promise.all([loadCars(), loadSessions(), loadPasskeys()]);
}

// -- login and logout ----------------------------------------------------------------------------

async function login(event) {
  event.preventDefault();
  const password = $("#password").value;
  $("#password").value = "";
  try {
    // The new user reaches signedIn() through onChange, in this tab and the others.
    await auth.login({ email: $("#email").value.trim(), password, userType: $("#user-type").value });
  } catch (error) {
    if (error.mfa) {
      await askForSecondFactor(error.mfa);
      return;
    }
    $("#login-error").textContent = explain(error);
  }
}

// -- second factor (TOTP) ------------------------------------------------------------------------

function svgImage(svg) {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

async function askForSecondFactor(challenge) {
  mfaToken = challenge.mfaToken;
  $("#login").hidden = true;
  $("#mfa").hidden = false;
  $("#mfa-error").textContent = challenge.challenge === "email_code"
    ? "Many failed sign-ins: enter the code emailed to the account (see the outbox)."
    : "";
  if (challenge.challenge === "email_code") loadOutbox();
  $("#mfa-enrol").hidden = challenge.challenge !== "enrol_totp";
  if (challenge.challenge === "enrol_totp") {
    try {
      const enrolment = await auth.enrolDuringLogin(mfaToken);
      $("#mfa-enrol-qr").src = svgImage(enrolment.qr_svg);
      $("#mfa-enrol-secret").textContent = enrolment.secret;
      $("#mfa-enrol-recovery").textContent = enrolment.recovery_codes.join("  ");
    } catch (error) {
      $("#mfa-error").textContent = explain(error);
    }
  }
  $("#mfa-code").focus();
}

async function submitSecondFactor(event) {
  event.preventDefault();
  const code = $("#mfa-code").value.trim();
  $("#mfa-code").value = "";
  try {
    await auth.loginWithCode({ mfaToken, code }); // signedIn() follows through onChange
  } catch (error) {
    if (error.mfa) {
      await askForSecondFactor(error.mfa); // after an emailed code, the account's factor
      return;
    }
    $("#mfa-error").textContent = error.status === 401 ? "Wrong or expired code: try again, or sign in again." : explain(error);
  }
}

async function startTotp() {
  const result = await api("POST", "/auth/mfa/totp");
  if (result.status !== 201) {
    if (result.status !== 401) say(result.status === 409 ? "A second factor is already on: remove it first." : explain(result), true);
    return;
  }
  $("#totp-qr").src = svgImage(result.data.qr_svg);
  $("#totp-secret").textContent = result.data.secret;
  $("#totp-recovery").textContent = result.data.recovery_codes.join("  ");
  $("#totp-setup").hidden = false;
  say("Scan the QR code, then enter the app's code to turn the second factor on.");
}

async function verifyTotp(event) {
  event.preventDefault();
  const result = await api("POST", "/auth/mfa/totp/verify", { body: { code: $("#totp-verify-code").value.trim() } });
  $("#totp-verify-code").value = "";
  if (result.ok) {
    $("#totp-setup").hidden = true;
    say("Second factor on: your next sign-in asks for a code.");
  } else if (result.status !== 401) {
    say(explain(result), true);
  }
}

async function removeTotp(event) {
  event.preventDefault();
  const result = await api("DELETE", "/auth/mfa/totp", { body: { code: $("#totp-remove-code").value.trim() } });
  $("#totp-remove-code").value = "";
  if (result.ok) say("Second factor removed.");
  else if (result.status !== 401) say(explain(result), true);
}

async function logout() {
  await auth.logout().catch((error) => log(`logout: ${error.message}`));
}

async function logoutAll() {
  await auth.logoutAll().catch((error) => log(`logout everywhere: ${error.message}`));
}

function breakAccessToken() {
  if (!auth.user) return;
  tamperNext = true;
  log("the next call's access token will be tampered with: it gets 401, then a transparent refresh");
}

// -- passkeys (WebAuthn) -------------------------------------------------------------------------

// Browsers refuse an IP address as the relying-party id: on 127.0.0.1 the page points to localhost.
const onIpAddress = /^[0-9.]+$|^\[/.test(window.location.hostname);

function passkeyProblem(error) {
  if (error.status === 403 && error.body && error.body.error === "insufficient_user_authentication") {
    const minutes = Math.round((Number(error.body.max_age) || 0) / 60);
    return `Changing passkeys needs a sign-in less than ${minutes} min old, with a passkey or code if the account has one: sign out, sign in again, then retry.`;
  }
  if (error.status === 401) return "Passkey not accepted.";
  if (error.status === 429) return "Too many attempts: try again later.";
  return error.message || `HTTP ${error.status}`;
}

async function loginWithPasskey() {
  $("#login-error").textContent = "";
  try {
    await auth.loginWithPasskey(); // signedIn() follows through onChange
  } catch (error) {
    $("#login-error").textContent = passkeyProblem(error);
  }
}

async function registerPasskey(event) {
  event.preventDefault();
  try {
    const passkey = await auth.registerPasskey({ name: $("#passkey-name").value.trim() });
    $("#passkey-name").value = "";
    say(`Passkey "${passkey.name}" added: it signs in with no password.`);
    await loadPasskeys();
  } catch (error) {
    say(passkeyProblem(error), true);
  }
}

async function loadPasskeys() {
  const result = await api("GET", "/auth/passkeys");
  if (!result.ok) {
    if (result.status !== 401) {
      const row = document.createElement("tr");
      row.append(cell(`Passkeys are not available: ${explain(result)}`));
      $("#passkeys tbody").replaceChildren(row);
    }
    return;
  }
  const rows = result.data.passkeys.map((passkey) => {
    const row = document.createElement("tr");
    row.dataset.id = passkey.id;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "remove-passkey";
    remove.textContent = "Remove";
    remove.addEventListener("click", () => removePasskey(passkey));
    const actions = document.createElement("td");
    actions.append(remove);
    row.append(cell(passkey.name), cell(when(passkey.created_at)), cell(when(passkey.last_used_at) || "never"),
      cell(passkey.synced ? "yes" : "no"), actions);
    return row;
  });
  $("#passkeys tbody").replaceChildren(...rows);
}

async function removePasskey(passkey) {
  const result = await api("DELETE", `/auth/passkeys/${encodeURIComponent(passkey.id)}`);
  if (result.ok) {
    say(`Passkey "${passkey.name}" removed.`);
    await loadPasskeys();
  } else if (result.status !== 401) {
    say(explain(result), true);
  }
}

// -- cars --------------------------------------------------------------------------------------

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

async function loadCars() {
  const result = await api("GET", "/cars");
  if (!result.ok) {
    if (result.status !== 401) say(explain(result), true);
    return;
  }
  const rows = result.data.cars.map((car) => {
    const row = document.createElement("tr");
    row.dataset.id = car.id;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "delete-car";
    remove.textContent = "Delete";
    remove.addEventListener("click", () => deleteCar(car));
    const actions = document.createElement("td");
    actions.append(remove);
    row.append(cell(car.make), cell(car.model), cell(String(car.year)),
      cell(Number(car.price).toLocaleString(undefined, { style: "currency", currency: "USD" })),
      cell(car.created_by), actions);
    return row;
  });
  $("#cars tbody").replaceChildren(...rows);
}

async function addCar(event) {
  event.preventDefault();
  const car = {
    make: $("#car-make").value.trim(),
    model: $("#car-model").value.trim(),
    year: Number.parseInt($("#car-year").value, 10),
    price: Number($("#car-price").value),
  };
  const result = await api("POST", "/cars", { body: car });
  if (result.status === 201) {
    say(`Added ${result.data.make} ${result.data.model}.`);
    $("#car-form").reset();
    await loadCars();
  } else if (result.status !== 401) {
    say(explain(result), true);
  }
}

async function deleteCar(car) {
  const result = await api("DELETE", `/cars/${encodeURIComponent(car.id)}`);
  if (result.ok) {
    say(`Deleted ${car.make} ${car.model}.`);
    await loadCars();
  } else if (result.status !== 401) {
    say(explain(result), true);
  }
}

// -- sessions ----------------------------------------------------------------------------------

function when(value) {
  if (!value) return "";
  const date = typeof value === "number" ? new Date(value > 1e12 ? value : value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

async function loadSessions() {
  const result = await api("GET", "/auth/sessions");
  if (!result.ok) {
    if (result.status !== 401) {
      const row = document.createElement("tr");
      row.append(cell(`Sessions are not available: ${explain(result)}`));
      $("#sessions tbody").replaceChildren(row);
    }
    return;
  }
  const rows = result.data.sessions.map((session) => {
    const row = document.createElement("tr");
    row.dataset.id = session.id;
    if (session.current) row.className = "current";
    const device = [session.browser, session.os, session.device].filter(Boolean).join(" on ")
      || session.user_agent || "unknown device";
    const revoke = document.createElement("button");
    revoke.type = "button";
    revoke.className = "revoke-session";
    revoke.textContent = session.current ? "Revoke (this one)" : "Revoke";
    revoke.addEventListener("click", () => revokeSession(session));
    const actions = document.createElement("td");
    actions.append(revoke);
    row.append(cell(device + (session.current ? " (this browser)" : "")), cell(session.source_ip || ""),
      cell(when(session.created_at)), cell(when(session.last_used_at)), actions);
    return row;
  });
  $("#sessions tbody").replaceChildren(...rows);
}

async function revokeSession(session) {
  const result = await api("DELETE", `/auth/sessions/${encodeURIComponent(session.id)}`);
  if (!result.ok) {
    if (result.status !== 401) say(explain(result), true);
    return;
  }
  if (session.current) {
    await auth.logout().catch(() => {}); // the API already ended it: this signs out every tab
    $("#login-error").textContent = "This session was revoked.";
  } else {
    say("Session revoked.");
    await loadSessions();
  }
}

// -- invitations, forgotten passwords and the outbox -------------------------------------------

// A link from an email: #invitation=<token>, #reset=<token> or #unlock=<token> (reopens sign-in with
// authenticator codes). The fragment never reaches a server; it is read once and removed from the
// address bar (and so from the history).
const pendingLink = (() => {
  const match = /^#(invitation|reset|unlock)=([A-Za-z0-9_-]{1,128})$/.exec(window.location.hash);
  if (!match) return null;
  history.replaceState(null, "", window.location.pathname);
  return { purpose: match[1], token: match[2] };
})();

async function publicPost(path, body, cookie = false) {
  const headers = { "Content-Type": "application/json" };
  if (cookie) headers["X-Token-Transport"] = "cookie";
  const response = await loggedFetch(`${API}${path}`, {
    method: "POST", headers, body: JSON.stringify(body), credentials: cookie ? "include" : "omit",
  });
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  return { status: response.status, ok: response.ok, data };
}

async function forgotPassword(event) {
  event.preventDefault();
  const result = await publicPost("/auth/password/forgot", { email: $("#email").value, user_type: $("#user-type").value });
  $("#forgot-message").textContent = result.ok
    ? "If that account exists, a reset link is on its way: see the outbox below."
    : (result.data && result.data.message) || `HTTP ${result.status}`;
  await loadOutbox();
}

async function setPassword(event) {
  event.preventDefault();
  const path = pendingLink.purpose === "reset" ? "/auth/password/reset" : "/auth/invitations/accept";
  // Cookie mode: the answer sets the refresh cookie, and the client adopts the new session from it.
  const result = await publicPost(path, { token: pendingLink.token, new_password: $("#new-password").value }, true);
  if (!result.ok) {
    $("#set-password-error").textContent = (result.data && result.data.message) || `HTTP ${result.status}`;
    return;
  }
  $("#set-password").hidden = true;
  if (result.data && result.data.sign_in) {
    // A second factor is due (the account has one, or its type must): the link gave no session.
    say(`${result.data.message}.`);
    return;
  }
  const user = await auth.restore();
  if (user) say(pendingLink.purpose === "reset" ? "Password reset: every other session has ended." : "Welcome: your password is set.");
}

async function invite(event) {
  event.preventDefault();
  const result = await api("POST", "/auth/invitations", {
    body: {
      email: $("#invite-email").value,
      name: $("#invite-name").value,
      user_type: $("#invite-type").value,
      role: $("#invite-role").value,
    },
  });
  say(result.ok ? `Invitation sent to ${result.data.email}: see the outbox.` : explain(result), !result.ok);
  await loadOutbox();
}

async function loadOutbox() {
  let mails = [];
  try {
    mails = await (await fetch("/outbox.json", { cache: "no-store" })).json();
  } catch {
    return;
  }
  const items = mails.map((mail) => {
    const item = document.createElement("li");
    item.className = "mail";
    item.append(`To ${mail.to.join(", ")}: ${mail.subject} `);
    for (const href of mail.links) {
      const anchor = document.createElement("a");
      anchor.href = href;
      anchor.textContent = "open the link";
      anchor.className = "mail-link";
      item.append(anchor);
    }
    return item;
  });
  $("#outbox").replaceChildren(...items);
}

// -- start -------------------------------------------------------------------------------------

function start() {
  $("#api-base").textContent = API;
  $("#email").value = EMAILS[$("#user-type").value];
  $("#user-type").addEventListener("change", () => { $("#email").value = EMAILS[$("#user-type").value]; });
  $("#login-form").addEventListener("submit", login);
  $("#logout").addEventListener("click", logout);
  $("#logout-all").addEventListener("click", logoutAll);
  $("#break-token").addEventListener("click", breakAccessToken);
  $("#reload-cars").addEventListener("click", loadCars);
  $("#reload-sessions").addEventListener("click", loadSessions);
  $("#car-form").addEventListener("submit", addCar);
  $("#forgot-form").addEventListener("submit", forgotPassword);
  $("#set-password-form").addEventListener("submit", setPassword);
  $("#invite-form").addEventListener("submit", invite);
  $("#reload-outbox").addEventListener("click", loadOutbox);
  loadOutbox();
  // A link opened on this page (from the outbox): start again with it, as a mail client's tab would.
  window.addEventListener("hashchange", () => {
    if (/^#(invitation|reset|unlock)=/.test(window.location.hash)) window.location.reload();
  });
  if (pendingLink && pendingLink.purpose === "unlock") {
    publicPost("/auth/mfa/unlock", { token: pendingLink.token }).then((result) => {
      say(result.ok ? "Sign-in with authenticator codes is open again." : (result.data && result.data.message) || `HTTP ${result.status}`, !result.ok);
    });
  } else if (pendingLink) {
    $("#set-password-title").textContent = pendingLink.purpose === "reset" ? "Choose a new password" : "Accept your invitation: choose a password";
    $("#set-password").hidden = false;
  }
  $("#mfa-form").addEventListener("submit", submitSecondFactor);
  $("#totp-start").addEventListener("click", startTotp);
  $("#totp-verify-form").addEventListener("submit", verifyTotp);
  $("#totp-remove-form").addEventListener("submit", removeTotp);
  $("#passkey-login").addEventListener("click", loginWithPasskey);
  $("#passkey-form").addEventListener("submit", registerPasskey);
  $("#reload-passkeys").addEventListener("click", loadPasskeys);
  if (onIpAddress || !window.PublicKeyCredential) {
    $("#passkey-login").disabled = true;
    $("#passkey-register").disabled = true;
    if (onIpAddress) {
      const there = new URL(window.location.href);
      there.hostname = "localhost";
      $("#passkey-hint-link").href = there.href;
      $("#passkey-hint-link").textContent = there.origin;
      $("#passkey-hint").hidden = false;
    }
  }
  auth.onChange((user) => { if (user) signedIn(user); });
  auth.onSignedOut(({ reason, remote }) => signedOut(SIGNED_OUT[reason][remote ? 1 : 0]));
  // A reload loses the in-memory access token: the refresh cookie (if any) brings the session back.
  auth.restore().then((user) => { if (!user) signedOut(); });
}

start();
