// The Lucene side of the known-item benchmark (bench/relevance/relevance.ts): indexes the
// documents of a task (one per line: id, title, text; tab-separated, already tokenized into
// space-separated terms) in memory with Lucene's BM25 (k1 = 1.2, b = 0.75), and answers
// every query (one per line, space-separated terms) as Lucene's query parser over both
// fields would: for each term, title:term OR text:term, all of them SHOULD clauses.
// Every query runs once to warm up, then once timed; prints per query the milliseconds and
// the top 10 ids.
//
// javac -cp lucene-core.jar KnownItem.java
// java -cp lucene-core.jar:. KnownItem docs.tsv queries.txt results.tsv

import java.io.BufferedReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.apache.lucene.analysis.core.WhitespaceAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.ByteBuffersDirectory;

public class KnownItem {
  public static void main(String[] args) throws Exception {
    ByteBuffersDirectory directory = new ByteBuffersDirectory();
    IndexWriterConfig config = new IndexWriterConfig(new WhitespaceAnalyzer());
    config.setSimilarity(new BM25Similarity(1.2f, 0.75f));
    long loadStarted = System.nanoTime();
    try (IndexWriter writer = new IndexWriter(directory, config);
        BufferedReader docs = Files.newBufferedReader(Paths.get(args[0]), StandardCharsets.UTF_8)) {
      String line;
      while ((line = docs.readLine()) != null) {
        String[] parts = line.split("\t", -1);
        Document doc = new Document();
        doc.add(new StringField("id", parts[0], Field.Store.YES));
        doc.add(new TextField("title", parts[1], Field.Store.NO));
        doc.add(new TextField("text", parts[2], Field.Store.NO));
        writer.addDocument(doc);
      }
    }
    DirectoryReader reader = DirectoryReader.open(directory);
    IndexSearcher searcher = new IndexSearcher(reader);
    searcher.setSimilarity(new BM25Similarity(1.2f, 0.75f));
    double loadMs = (System.nanoTime() - loadStarted) / 1e6;
    // A query is as long as a summary: some dictionary senses have hundreds of words.
    BooleanQuery.setMaxClauseCount(Integer.MAX_VALUE);
    List<Query> queries = new ArrayList<>();
    for (String line : Files.readAllLines(Paths.get(args[1]), StandardCharsets.UTF_8)) {
      BooleanQuery.Builder builder = new BooleanQuery.Builder();
      for (String word : line.trim().split(" ")) {
        if (word.isEmpty()) continue;
        builder.add(new TermQuery(new Term("title", word)), BooleanClause.Occur.SHOULD);
        builder.add(new TermQuery(new Term("text", word)), BooleanClause.Occur.SHOULD);
      }
      queries.add(builder.build());
    }
    for (Query query : queries) searcher.search(query, 10);
    try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(Paths.get(args[2])))) {
      out.println("load\t" + loadMs);
      for (Query query : queries) {
        long started = System.nanoTime();
        ScoreDoc[] hits = searcher.search(query, 10).scoreDocs;
        double ms = (System.nanoTime() - started) / 1e6;
        StringBuilder ids = new StringBuilder();
        for (ScoreDoc hit : hits) {
          if (ids.length() > 0) ids.append(' ');
          ids.append(searcher.doc(hit.doc).get("id"));
        }
        out.println(ms + "\t" + ids);
      }
    }
  }
}
