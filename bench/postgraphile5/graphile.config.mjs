// PostGraphile v5 as the load benchmark runs it: the Amber preset over the `public` schema,
// with what v4 exposes by default there: reads only (v4 runs with
// --disable-default-mutations), and every column orderable and usable in `condition` whether
// an index leads with it or not (v4 ignores indexes unless told not to; v5's V4 preset drops
// PgIndexBehaviorsPlugin for that). No GraphiQL, no plan explanations.
// The connection string comes from DATABASE_URL (bench/load.py sets it).
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  disablePlugins: [
    "PgMutationCreatePlugin",
    "PgMutationUpdateDeletePlugin",
    "PgIndexBehaviorsPlugin",
  ],
  pgServices: [
    makePgService({ connectionString: process.env.DATABASE_URL, schemas: ["public"] }),
  ],
  grafserv: { graphiql: false, watch: false },
  grafast: { explain: false },
};

export default preset;
