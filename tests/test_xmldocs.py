"""XML files of documents (``kgx.batch.xmldocs``): PubMed article sets (how biomedical
abstracts come), RSS and Atom feeds, streamed; an XML Spreadsheet saved as ``.xml`` read as a
table; entity declarations, other roots and broken XML are error entries that lose nothing."""

from __future__ import annotations

import gzip
import json

from kgx.batch.reading import count_documents, read_inputs
from kgx.batch.xmldocs import records

PUBMED = """<?xml version="1.0" ?>
<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" \
"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">
<PubmedArticleSet>
<PubmedArticle>
  <MedlineCitation Status="MEDLINE" Owner="NLM">
    <PMID Version="1">10000001</PMID>
    <Article PubModel="Print">
      <Journal>
        <ISSN IssnType="Print">0000-0001</ISSN>
        <JournalIssue CitedMedium="Print"><Volume>12</Volume>
          <PubDate><Year>1999</Year><Month>Jan</Month></PubDate></JournalIssue>
        <Title>Journal of Clinical Pharmacology</Title>
      </Journal>
      <ArticleTitle>Rhabdomyolysis associated with <i>simvastatin</i> and
        gemfibrozil.</ArticleTitle>
      <Abstract>
        <AbstractText Label="BACKGROUND" NlmCategory="BACKGROUND">A 62-year-old man developed
          rhabdomyolysis after gemfibrozil was added to simvastatin.</AbstractText>
        <AbstractText Label="CONCLUSIONS" NlmCategory="CONCLUSIONS">Statins with fibrates
          need care.</AbstractText>
      </Abstract>
      <Language>eng</Language>
    </Article>
    <CommentsCorrectionsList><CommentsCorrections RefType="Cites">
      <PMID Version="1">999</PMID></CommentsCorrections></CommentsCorrectionsList>
  </MedlineCitation>
  <PubmedData>
    <ArticleIdList><ArticleId IdType="pubmed">10000001</ArticleId>
      <ArticleId IdType="doi">10.1000/jcp.1999.1</ArticleId></ArticleIdList>
  </PubmedData>
</PubmedArticle>
<PubmedArticle>
  <MedlineCitation Status="MEDLINE" Owner="NLM">
    <PMID Version="1">10000002</PMID>
    <Article PubModel="Print">
      <Journal><JournalIssue><PubDate><MedlineDate>2001 Mar-Apr</MedlineDate></PubDate>
      </JournalIssue><Title>Lancet</Title></Journal>
      <ArticleTitle>Hepatitis caused by amiodarone.</ArticleTitle>
      <Abstract><AbstractText>Amiodarone caused hepatitis in a woman of 70 years.</AbstractText>
      </Abstract>
    </Article>
  </MedlineCitation>
</PubmedArticle>
</PubmedArticleSet>
"""

RSS = """<?xml version="1.0" encoding="windows-1252"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Acme news</title><link>https://acme.example/</link>
<item><title>Acme opens an office in K\xf6ln</title><link>https://acme.example/koeln</link>
  <guid isPermaLink="false">acme-1</guid><pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate>
  <dc:creator>Ana Diaz</dc:creator>
  <description>&lt;p&gt;Maria Lopez works for &lt;b&gt;Acme&lt;/b&gt; in \
K\xf6ln.&lt;/p&gt;</description>
</item>
<item><title>Short</title><link>https://acme.example/short</link>
  <description>Wei Chen lives in Osaka.</description>
  <content:encoded><![CDATA[<p>Wei Chen lives in <i>Osaka</i>.</p><p>More.</p>]]></content:encoded>
</item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Blog</title>
<entry><title type="html">Globex &amp;amp; Initech</title><id>tag:blog.example,2026:1</id>
  <link rel="alternate" href="https://blog.example/1"/>
  <published>2026-11-02T10:00:00Z</published>
  <author><name>John Smith</name></author>
  <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>John Smith works for
    <b>Globex</b>.</p></div></content></entry>
<entry><title>Second</title><link href="https://blog.example/2"/>
  <summary>Ana Diaz lives in Oslo.</summary></entry>
</feed>
"""


def test_pubmed_abstracts_are_documents(tmp_path):
    (tmp_path / "pubmed25n0001.xml.gz").write_bytes(gzip.compress(PUBMED.encode()))
    first, second = read_inputs([tmp_path])
    assert first.id == "10000001" and second.id == "10000002"
    assert first.text == (
        "Rhabdomyolysis associated with simvastatin and gemfibrozil.\n\n"
        "BACKGROUND: A 62-year-old man developed rhabdomyolysis after gemfibrozil was added to "
        "simvastatin.\n\nCONCLUSIONS: Statins with fibrates need care.")
    assert first.meta == {"journal": "Journal of Clinical Pharmacology", "year": "1999",
                          "language": "eng", "doi": "10.1000/jcp.1999.1"}
    assert first.loc == "pubmed25n0001.xml.gz[0]" and first.line == 4
    assert second.text == ("Hepatitis caused by amiodarone.\n\nAmiodarone caused hepatitis in "
                           "a woman of 70 years.")
    assert second.meta == {"journal": "Lancet", "year": "2001"}
    assert count_documents([tmp_path]) == 2


def test_rss_and_atom_entries_are_documents(tmp_path):
    (tmp_path / "news.rss").write_bytes(RSS.encode("cp1252"))
    (tmp_path / "blog.atom").write_text(ATOM, encoding="utf-8")
    found = {e.id: e for e in read_inputs([tmp_path])}
    assert sorted(found) == ["acme-1", "https://acme.example/short", "https://blog.example/2",
                             "tag:blog.example,2026:1"]
    acme = found["acme-1"]
    assert acme.text == "Acme opens an office in Köln\n\nMaria Lopez works for Acme in Köln."
    assert acme.meta == {"link": "https://acme.example/koeln", "author": "Ana Diaz",
                         "date": "Mon, 02 Nov 2026 10:00:00 GMT"}
    assert found["https://acme.example/short"].text == (
        "Short\n\nWei Chen lives in Osaka.\n\nMore.")  # the full content, not the description
    blog = found["tag:blog.example,2026:1"]
    assert blog.text == "Globex & Initech\n\nJohn Smith works for Globex."
    assert blog.meta == {"link": "https://blog.example/1", "date": "2026-11-02T10:00:00Z",
                         "author": "John Smith"}
    assert found["https://blog.example/2"].text == "Second\n\nAna Diaz lives in Oslo."


def test_bad_xml_loses_nothing_and_says_why(tmp_path):
    laughs = ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
              '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><rss><channel><item><title>&b;'
              "</title></item></channel></rss>")
    (tmp_path / "laughs.xml").write_text(laughs, encoding="utf-8")
    (tmp_path / "config.xml").write_text("<configuration><x/></configuration>",
                                         encoding="utf-8")
    cut = PUBMED[:PUBMED.index("<PubmedArticle>", 200)] + "<PubmedArticle><Medline"
    (tmp_path / "cut.xml").write_text(cut, encoding="utf-8")
    found = {e.id: e for e in read_inputs([tmp_path])}
    assert found["laughs.xml"].error.endswith("laughs.xml: it declares XML entities: refused")
    assert found["config.xml"].error.endswith(
        "config.xml: an XML file of <configuration>: kgx reads PubMed's PubmedArticleSet, RSS "
        "and Atom feeds (other XML: convert it to JSONL)")
    assert found["10000001"].status == "ok"
    assert "not well-formed XML" in found["cut.xml[1]"].error
    assert found["cut.xml[1]"].error.endswith("; the 1 documents before were kept")


def test_an_xml_spreadsheet_saved_as_xml_is_a_table(tmp_path):
    ss = 'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"'
    book = (f'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:'
            f'spreadsheet" {ss}><Worksheet ss:Name="Cases"><Table><Row><Cell><Data '
            'ss:Type="String">id</Data></Cell><Cell><Data ss:Type="String">text</Data></Cell>'
            '</Row><Row><Cell><Data ss:Type="String">c1</Data></Cell><Cell><Data '
            'ss:Type="String">Wei Chen works for Globex.</Data></Cell></Row></Table>'
            "</Worksheet></Workbook>")
    (tmp_path / "cases.xml").write_text(book, encoding="utf-8")
    assert [(e.id, e.text) for e in read_inputs([tmp_path])] == [
        ("c1", "Wei Chen works for Globex.")]


def test_a_document_over_the_limit_is_an_error_and_the_rest_is_read(tmp_path, monkeypatch):
    from kgx.batch import limits

    monkeypatch.setattr(limits, "MAX_DOCUMENT_BYTES", 400)
    big = ATOM.replace("Ana Diaz lives in Oslo.", "Ana Diaz lives in Oslo. " * 40)
    (tmp_path / "big.atom").write_text(big, encoding="utf-8")
    first, second = read_inputs([tmp_path])
    assert first.status == "ok" and second.id == "big.atom[1]"
    assert "over" in second.error and second.error.startswith(
        f"{tmp_path / 'big.atom'}[1] (line 9): ") and second.loc == "big.atom[1]"
    with open(tmp_path / "big.atom", "rb") as fh:
        assert [line for _, line, _ in records(fh)] == [3, 9]
    json.dumps([first.meta])  # metadata is JSON
