import { isCrossSiteApp, siteOf } from './app-site.js';

describe('a UCenter application on another site than the hub', () => {
  it('siteOf: the registrable part of a name by the Public Suffix List (co.uk, com.cn), an IP address as it is', () => {
    expect(siteOf('forum.sso.localhost')).toBe('sso.localhost');
    expect(siteOf('BBS.Example.com.')).toBe('example.com');
    expect(siteOf('bbs.example.co.uk')).toBe('example.co.uk');
    expect(siteOf('bbs.example.com.cn')).toBe('example.com.cn');
    expect(siteOf('127.0.0.1')).toBe('127.0.0.1');
    expect(siteOf('[::1]')).toBe('[::1]');
  });

  it('isCrossSiteApp: 127.0.0.1 or another domain is; a name under the hub\'s domain is not', () => {
    expect(isCrossSiteApp('http://127.0.0.1:7513', 'http://hub.sso.localhost:7500')).toBe(true);
    expect(isCrossSiteApp('https://bbs.example.org', 'https://sso.example.com')).toBe(true);
    expect(isCrossSiteApp('https://bbs.example.co.uk', 'https://sso.other.co.uk')).toBe(true);
    expect(isCrossSiteApp('http://forum.sso.localhost:7508', 'http://hub.sso.localhost:7500')).toBe(false);
    expect(isCrossSiteApp('https://bbs.example.com/forum', 'https://sso.example.com')).toBe(false);
    // Browsers count the scheme too: an http forum beside an https hub is another site.
    expect(isCrossSiteApp('http://bbs.example.com', 'https://sso.example.com')).toBe(true);
    // The list knows more than co.uk-like registries: two sites under github.io.
    expect(siteOf('forum.example.github.io')).toBe('example.github.io');
  });
});
