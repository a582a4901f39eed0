"""Data sharing (统一目录 · 按需申请 · 共享接口): the catalog derived from what the code declares,
the rules of a request for an entry, and the grant an interface answers under (docs/sharing.md)."""
