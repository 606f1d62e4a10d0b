import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeEntities, htmlToText } from './html.ts';

test('decodeEntities: named, numeric, hex, invalid and unknown references', () => {
  assert.equal(decodeEntities('&lt;&gt;&amp;&quot;&apos;'), `<>&"'`);
  assert.equal(decodeEntities('&eacute;&Ouml;&ntilde;&ccedil;&szlig;&euro;&hellip;&Yacute;'), 'éÖñçß€…Ý');
  assert.equal(decodeEntities('&#65;&#x42;&#X43;&#128512;'), 'ABC😀');
  assert.equal(decodeEntities('&#0;&#xD800;&#1114112;'), '\ufffd\ufffd\ufffd');
  assert.equal(decodeEntities('&#146;&#151;'), '’—'); // Windows-1252 range, as browsers read it
  assert.equal(decodeEntities('a&nbsp;b&shy;c'), 'a bc');
  assert.equal(decodeEntities('&amp;lt; is not decoded twice'), '&lt; is not decoded twice');
  // Unknown names and names without ";" (except the legacy few) are left as written.
  assert.equal(decodeEntities('&bogus; &eacute &amp &copy 1'), '&bogus; &eacute & © 1');
});

test('tags, attributes with ">" in quotes, case and self-closing tags', () => {
  assert.equal(htmlToText('<A HREF="/x?a>b" title=\'c>d\'>link</A> <IMG src=x alt="y"/>text'), 'link text');
  assert.equal(htmlToText('one<br>two<BR/>three<br />four'), 'one\ntwo\nthree\nfour');
  assert.equal(htmlToText('<P>One</P><H2 class="t">Two</H2>'), 'One\n\nTwo');
});

test('nested blocks give one blank line, inline elements none', () => {
  assert.equal(
    htmlToText('<div><div><section><p>A <em>b</em> <a href="#">c</a>.</p></section></div><div>D</div></div>'),
    'A b c.\n\nD',
  );
  assert.equal(htmlToText('<ul>\n  <li>x</li>\n  <li>y <b>z</b></li>\n</ul>'), 'x\ny z');
  assert.equal(htmlToText('<dl><dt>Term</dt><dd>Meaning</dd></dl>'), 'Term\nMeaning');
});

test('scripts, styles, comments and other non-text elements go with their content', () => {
  const html =
    '<SCRIPT type="text/javascript">if (a < b && c > d) document.write("<p>x</p>")</script >' +
    '<style>p::after { content: "<b>" }</style><!-- <p>gone</p> --><noscript>Enable JS</noscript>' +
    '<template><p>t</p></template><svg><text>chart</text></svg><textarea>draft</textarea>' +
    '<select><option>Pick</option></select><iframe src="x">frame</iframe><p>kept</p>';
  assert.equal(htmlToText(html), 'kept');
  assert.equal(htmlToText('<!DOCTYPE html><?xml version="1.0"?><p>x</p>'), 'x');
  assert.equal(htmlToText('<p>a<![CDATA[ b < c ]]>d</p>'), 'a b < c d');
});

test('tables: cells joined with " | ", rows on their own lines', () => {
  assert.equal(
    htmlToText(
      '<table><tr><th>Name</th><th>Age</th></tr><tr><td>Ann <i>L.</i></td><td></td><td>31</td></tr></table>',
    ),
    'Name | Age\nAnn L. | 31',
  );
});

test('<pre> keeps its layout, tags inside it go and entities are decoded', () => {
  assert.equal(
    htmlToText(
      '<p>Code:</p><pre class="x">\n<code>if (a &lt; b) {\n    <span>run</span>();\n}</code>\n</pre><p>End</p>',
    ),
    'Code:\n\nif (a < b) {\n    run();\n}\n\nEnd',
  );
  assert.equal(htmlToText('<pre>  open\n  to the end'), '  open\n  to the end');
});

test('text that only looks like markup stays', () => {
  assert.equal(htmlToText('<p>1 < 2 and 3 <> 4, a <3 b</p>'), '1 < 2 and 3 <> 4, a <3 b');
  assert.equal(htmlToText('<p>&lt;b&gt;literal&lt;/b&gt;</p>'), '<b>literal</b>');
});

test('unclosed constructs behave as in browsers', () => {
  assert.equal(htmlToText('<p>before</p><a href="x'), 'before'); // open tag to the end
  assert.equal(htmlToText('<p>before</p><script>var x = 1; <p>after</p>'), 'before'); // unclosed script
  assert.equal(htmlToText('<p>before</p><!-- never closed <p>after</p>'), 'before');
  assert.equal(htmlToText('<head><title>T</title><p>body text</p>'), 'T\n\nbody text'); // optional </head>
});

test('hostile markup is handled in linear time', () => {
  const started = Date.now();
  for (const evil of [
    '<a '.repeat(50_000),
    '<a b="'.repeat(50_000),
    '<script>'.repeat(50_000),
    '<iframe>x'.repeat(50_000),
    '<pre>x'.repeat(50_000),
    '<!--'.repeat(50_000),
    '< a <'.repeat(50_000),
    `<p title="${'>'.repeat(100_000)}`,
  ])
    htmlToText(evil);
  assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
});
