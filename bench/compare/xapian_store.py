"""Xapian 1.4 (Debian's python3-xapian) as a store and search library in a process of its own,
driven by bench/compare/library_system.ts over standard input and output, one request a line
(tab-separated, a request id first), answered in order:

  B <rid> <n>  then n lines  <key> \\t <size> \\t <title terms> \\t <text terms> \\t <json>
               -> <rid> ok        (written and committed to disk: durable and searchable)
  S <rid> <kind> <from> <to> <terms>  -> <rid> <keys of the top 10, space-separated>
  G <rid> <key>                       -> <rid> 1 | 0   (the stored document read)

Terms come already tokenized (the benchmark's tokenizer). The text field's terms are indexed
unprefixed with positions (phrases), the title's with the prefix S, the key as the boolean term
Q<key>, the size in value slot 0 (sortable, for ranges), the key in slot 1. BM25 with Xapian's defaults.
"""
import sys
import xapian

SIZE_SLOT = 0
KEY_SLOT = 1


def query_of(kind, low, high, terms):
    if kind == "or":
        return xapian.Query(xapian.Query.OP_OR, terms)
    if kind == "phrase":
        return xapian.Query(xapian.Query.OP_PHRASE, terms)
    if kind == "prefix":
        return xapian.Query(xapian.Query.OP_WILDCARD, terms[0], 0,
                            xapian.Query.WILDCARD_LIMIT_ERROR, xapian.Query.OP_SYNONYM)
    if kind == "range":
        size = xapian.Query(xapian.Query.OP_VALUE_RANGE, SIZE_SLOT,
                            xapian.sortable_serialise(low), xapian.sortable_serialise(high))
        return xapian.Query(xapian.Query.OP_FILTER, xapian.Query(terms[0]), size)
    return xapian.Query(terms[0])


def main():
    db = xapian.WritableDatabase(sys.argv[1], xapian.DB_CREATE_OR_OPEN)
    stdin = sys.stdin.buffer
    out = sys.stdout
    for raw in stdin:
        f = raw.decode("utf-8").rstrip("\n").split("\t")
        rid = f[1]
        if f[0] == "B":
            for _ in range(int(f[2])):
                key, size, title, text, body = stdin.readline().decode("utf-8").rstrip("\n").split("\t")
                doc = xapian.Document()
                for pos, term in enumerate(text.split(), 1):
                    doc.add_posting(term, pos)
                for term in title.split():
                    doc.add_term("S" + term)
                doc.add_boolean_term("Q" + key)
                doc.add_value(SIZE_SLOT, xapian.sortable_serialise(int(size)))
                doc.add_value(KEY_SLOT, key)
                doc.set_data(body)
                db.replace_document("Q" + key, doc)
            db.commit()
            out.write(rid + "\tok\n")
        elif f[0] == "G":
            found = "0"
            for item in db.postlist("Q" + f[2]):
                found = "1" if db.get_document(item.docid).get_data() else "0"
                break
            out.write(rid + "\t" + found + "\n")
        elif f[0] == "S":
            try:
                enquire = xapian.Enquire(db)
                enquire.set_weighting_scheme(xapian.BM25Weight())
                enquire.set_query(query_of(f[2], int(f[3]), int(f[4]), f[5].split(" ")))
                keys = [match.document.get_value(KEY_SLOT).decode("utf-8")
                        for match in enquire.get_mset(0, 10)]
                out.write(rid + "\t" + " ".join(keys) + "\n")
            except xapian.Error as error:
                out.write(rid + "\terror " + str(error).replace("\n", " ") + "\n")
        out.flush()


main()
