import { OramaIndex } from "./orama_index.ts";
import { runSearchIndexConformance } from "./search_index_conformance.ts";

runSearchIndexConformance("orama", () => ({
  create: (schema) => new OramaIndex(schema),
  cleanup: () => {},
}), { durable: false });
