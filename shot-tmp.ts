import puppeteer from 'puppeteer-core';
const browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
const page = await browser.newPage();
await page.setViewport({ width: 1400, height: 1000 });
await page.goto('file:///tmp/docsprobe/rt.html');
const text = await page.evaluate(() => document.body.innerText);
console.log(text.length, await page.evaluate(() => document.body.scrollHeight));
for (const y of [0, 1, 2]) { await page.evaluate((y) => window.scrollTo(0, [0, 14000, 30000][y]), y); await page.screenshot({ path: `/tmp/docsprobe/rt${y}.png` }); }
await browser.close();
