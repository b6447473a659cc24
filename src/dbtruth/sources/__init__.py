"""Where catalogs come from: live servers, SQL files on a scratch server, snapshots."""
