"""Reference clients: one package per API area, each exposing the client seam of docs/contracts.md."""
