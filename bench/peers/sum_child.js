// sum_child.js - the sum task in a child_process.fork child: {id, a, b} -> {id, sum}, over the
// IPC channel Node sets up for fork (JSON serialisation, the default).
'use strict';
process.on('message', (m) => {
  process.send({ id: m.id, sum: m.a + m.b });
});
process.on('disconnect', () => process.exit(0));
