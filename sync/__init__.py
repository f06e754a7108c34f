"""Sync with the provincial platform: the wire contract, the client and the reference server.

- `contract`: the versioned wire contract (pydantic models), shared by both sides.
- `client`, `engine`, `records`, `credentials`, `errors`, `cli`: FieldApp's side — the HTTP
  client, one sync (photos up, push, pull), records on the wire, the token, messages, commands.
- `server/`: the reference platform server (an extra of its own; never in the desktop installer).
- `conformance*`: checks any server speaking the contract can be run against.

Imports the core (`fieldapp`) only; the window (`ui`) sits on top.
"""
