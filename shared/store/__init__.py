"""Data access: the only code that knows DynamoDB item shapes and key prefixes.

dynamo.py      the codec and the call primitives (batch_get, transact_write, error mapping)
tables.py      the table and index definitions the stack, the local API and the tests share
users.py       accounts, login-failure counters          (Users table)
links.py       invitation and password-reset links       (Users table)
factors.py     TOTP factors and recovery codes           (Users table)
challenges.py  login challenges before a second factor   (Users table)
passkeys.py    passkeys and their challenges             (Users table)
sessions.py    sessions and their refresh tokens         (Sessions table)
denylist.py    denied tokens, revoked sessions, not-befores (Denylist table)
cars.py        the demo cars                              (Cars table)
"""
