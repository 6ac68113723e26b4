import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hashPassword, isPasswordHash, randomSalt, sha512Crypt } from '../../../electron/engine/customise/crypt';
import { which } from '../../helpers/needs';

describe('sha512-crypt', () => {
  it('matches the specification’s own test vectors', async () => {
    expect(await sha512Crypt('Hello world!', 'saltstring')).toBe('$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1');
    expect(await sha512Crypt('Hello world!', 'saltstringsaltstring', 10000)).toBe(
      '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
    );
  }, 60_000);

  it.runIf(which('openssl'))('agrees with openssl passwd -6 (an independent implementation) on passwords of every length class', async () => {
    const passwords = ['a', 'correct horse', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(65), 'ünïcödé pässwörd', 'p'.repeat(200)];
    for (const password of passwords) {
      const salt = randomSalt();
      const expected = execFileSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: password }).toString().trim();
      expect(await sha512Crypt(password, salt)).toBe(expected);
    }
  }, 60_000);

  it('hashes with a fresh random salt each time, in a shape /etc/shadow accepts', async () => {
    const [a, b] = [await hashPassword('secret'), await hashPassword('secret')];
    expect(a).not.toBe(b);
    expect(isPasswordHash(a)).toBe(true);
  });

  it('recognises sha512-crypt and yescrypt hashes and nothing else', () => {
    expect(isPasswordHash('$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1')).toBe(true);
    expect(isPasswordHash('$y$j9T$PaFEMV0mbpeadmHDv0Lp31$G/LliR3MqgdjEBcFC1E.s/3vlRofsZ0Wn5JyZHXAol5')).toBe(true);
    for (const bad of ['secret', '$1$abc$def', '$6$salt$short', '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZF6.XGZQ5', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1\nroot::0']) {
      expect(isPasswordHash(bad)).toBe(false);
    }
  });
});
