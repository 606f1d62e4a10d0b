import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromiumAvailable, launchBrowser, type TestBrowser } from './browser.ts';
import { lowContrastTexts } from './contrast.ts';

const skip = chromiumAvailable() ? false : 'Debian chromium is not installed (apt-get install chromium)';
let browser: TestBrowser | undefined;
before(async () => {
  if (!skip) browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('the contrast check flags pale text, in shadow roots too, and passes large or dark text', {
  skip,
}, async () => {
  const ctx = await (browser as TestBrowser).context();
  try {
    await ctx.page.setContent(`<body style="background:#fff">
      <p style="color:#000">dark enough</p>
      <p style="color:#aaa">too pale</p>
      <p style="color:#888;font-size:28px">large and grey enough</p>
      <div style="background:#222"><span style="color:#444">dark on dark</span></div>
      <div id="host"></div>
      <script>
        const root = document.getElementById('host').attachShadow({ mode: 'open' });
        root.innerHTML = '<span style="color:#bbb">pale in a shadow root</span>';
      </script></body>`);
    const low = await lowContrastTexts(ctx.page);
    assert.deepEqual(low.map((l) => l.text).sort(), ['dark on dark', 'pale in a shadow root', 'too pale']);
    assert.ok(low.every((l) => l.ratio < 4.5));
  } finally {
    await ctx.close();
  }
});
