"""The Xapian side of the known-item benchmark (bench/relevance/relevance.ts).

Indexes the documents of a task (one per line: id, title, text; tab-separated, already
tokenized into space-separated terms) in an in-memory Xapian database, both fields as
unprefixed terms of one document (Xapian's usual way), weighted by Xapian's BM25 with its
defaults; answers every query (space-separated terms) as an OR of its terms. Every query runs
once to warm up, then once timed; writes per query the milliseconds and the top 10 ids.

python3 xapian_known_item.py docs.tsv queries.txt results.tsv
"""

import sys
import time

import xapian


def main(docs_path, queries_path, out_path):
    started = time.perf_counter()
    db = xapian.WritableDatabase("", xapian.DB_BACKEND_INMEMORY)
    with open(docs_path, encoding="utf-8") as docs:
        for line in docs:
            doc_id, title, text = line.rstrip("\n").split("\t")
            doc = xapian.Document()
            position = 0
            for word in (title + " " + text).split(" "):
                if word == "":
                    continue
                position += 1
                doc.add_posting(word, position)
            doc.set_data(doc_id)
            db.add_document(doc)
    db.commit()
    load_ms = (time.perf_counter() - started) * 1000
    enquire = xapian.Enquire(db)
    enquire.set_weighting_scheme(xapian.BM25Weight())
    with open(queries_path, encoding="utf-8") as f:
        queries = [xapian.Query(xapian.Query.OP_OR, [w for w in line.split() if w]) for line in f]

    def run(query):
        enquire.set_query(query)
        return [match.document.get_data().decode("utf-8") for match in enquire.get_mset(0, 10)]

    for query in queries:
        run(query)
    with open(out_path, "w", encoding="utf-8") as out:
        out.write(f"load\t{load_ms}\n")
        for query in queries:
            t = time.perf_counter()
            ids = run(query)
            out.write(f"{(time.perf_counter() - t) * 1000}\t{' '.join(ids)}\n")


if __name__ == "__main__":
    main(*sys.argv[1:4])
