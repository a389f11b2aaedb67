// Lucene 8 (Debian's liblucene8-java) as a store and search library in a process of its own,
// driven by bench/compare/library_system.ts over standard input and output, one request a line
// (tab-separated, a request id first; answers may come out of order, tagged with it):
//
//   B <rid> <n>  then n lines  <key> \t <size> \t <title terms> \t <text terms> \t <json>
//                -> <rid> ok        (written, committed to disk, and searchable)
//   S <rid> <kind> <from> <to> <terms>  -> <rid> <keys of the top 10, space-separated>
//   G <rid> <key>                       -> <rid> 1 | 0   (the stored document read)
//
// Terms come already tokenized (the benchmark's tokenizer), so the WhitespaceAnalyzer keeps
// them as they are. Searches run on a pool of threads (one per core) beside the writes;
// every write batch is committed (durable) and the searcher refreshed before it is answered,
// as CameoDB acknowledges a write only when it is durable and searchable.
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.concurrent.*;
import org.apache.lucene.analysis.core.WhitespaceAnalyzer;
import org.apache.lucene.document.*;
import org.apache.lucene.index.*;
import org.apache.lucene.search.*;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.FSDirectory;

public class LuceneStore {
  static PrintStream out;

  static synchronized void answer(String line) {
    out.print(line);
    out.print('\n');
    out.flush();
  }

  static Query query(String kind, long from, long to, String[] terms) {
    switch (kind) {
      case "or": {
        BooleanQuery.Builder b = new BooleanQuery.Builder();
        for (String t : terms) b.add(new TermQuery(new Term("text", t)), BooleanClause.Occur.SHOULD);
        return b.build();
      }
      case "phrase":
        return new PhraseQuery("text", terms);
      case "prefix":
        return new PrefixQuery(new Term("text", terms[0]));
      case "range": {
        BooleanQuery.Builder b = new BooleanQuery.Builder();
        b.add(new TermQuery(new Term("text", terms[0])), BooleanClause.Occur.MUST);
        b.add(LongPoint.newRangeQuery("size", from, to), BooleanClause.Occur.FILTER);
        return b.build();
      }
      default:
        return new TermQuery(new Term("text", terms[0]));
    }
  }

  public static void main(String[] args) throws Exception {
    out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, "UTF-8");
    FSDirectory dir = FSDirectory.open(Paths.get(args[0]));
    IndexWriterConfig config = new IndexWriterConfig(new WhitespaceAnalyzer());
    config.setSimilarity(new BM25Similarity());
    IndexWriter writer = new IndexWriter(dir, config);
    SearcherManager manager = new SearcherManager(writer, null);
    ExecutorService pool = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors());
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String[] f = line.split("\t", -1);
      String rid = f[1];
      if (f[0].equals("B")) {
        int n = Integer.parseInt(f[2]);
        for (int i = 0; i < n; i++) {
          String[] d = in.readLine().split("\t", -1);
          Document doc = new Document();
          doc.add(new StringField("key", d[0], Field.Store.YES));
          doc.add(new LongPoint("size", Long.parseLong(d[1])));
          doc.add(new TextField("title", d[2], Field.Store.NO));
          doc.add(new TextField("text", d[3], Field.Store.NO));
          doc.add(new StoredField("body", d[4]));
          writer.updateDocument(new Term("key", d[0]), doc);
        }
        writer.commit();
        manager.maybeRefreshBlocking();
        answer(rid + "\tok");
      } else if (f[0].equals("S") || f[0].equals("G")) {
        final String[] req = f;
        pool.submit(() -> {
          IndexSearcher searcher = null;
          try {
            searcher = manager.acquire();
            searcher.setSimilarity(new BM25Similarity());
            if (req[0].equals("G")) {
              TopDocs top = searcher.search(new TermQuery(new Term("key", req[2])), 1);
              boolean found = top.scoreDocs.length == 1
                && searcher.doc(top.scoreDocs[0].doc).get("body") != null;
              answer(rid + "\t" + (found ? "1" : "0"));
            } else {
              Query q = query(req[2], Long.parseLong(req[3]), Long.parseLong(req[4]), req[5].split(" "));
              TopDocs top = searcher.search(q, 10);
              StringBuilder keys = new StringBuilder();
              for (ScoreDoc hit : top.scoreDocs) {
                if (keys.length() > 0) keys.append(' ');
                keys.append(searcher.doc(hit.doc).get("key"));
              }
              answer(rid + "\t" + keys);
            }
          } catch (Exception e) {
            answer(rid + "\terror " + e.toString().replace('\t', ' ').replace('\n', ' '));
          } finally {
            try {
              if (searcher != null) manager.release(searcher);
            } catch (IOException ignored) {
            }
          }
        });
      }
    }
    pool.shutdown();
    pool.awaitTermination(1, TimeUnit.MINUTES);
    manager.close();
    writer.close();
  }
}
