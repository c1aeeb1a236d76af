import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Template } from '../../../src/cli/render/template.js';

const data = {
  Repository: 'alpine',
  Tag: 'latest',
  RepoTags: ['alpine:latest', 'alpine:3'],
  Config: { Env: ['A=1', 'B=2'], Labels: Object.assign(Object.create(null), { maintainer: 'me' }), Cmd: null },
  Size: 4261000,
};

const cases: Array<[string, string]> = [
  ['{{.Repository}}:{{.Tag}}', 'alpine:latest'],
  ['{{json .RepoTags}}', '["alpine:latest","alpine:3"]'],
  ['{{index .RepoTags 1}}', 'alpine:3'],
  ['{{range .RepoTags}}[{{.}}]{{end}}', '[alpine:latest][alpine:3]'],
  ['{{range $i, $t := .RepoTags}}{{$i}}={{$t}} {{end}}', '0=alpine:latest 1=alpine:3 '],
  ['{{.Config.Env}}', '[A=1 B=2]'],
  ['{{join .Config.Env ","}}', 'A=1,B=2'],
  ['{{.Config.Labels.maintainer}}', 'me'],
  ['{{.Config.Labels.missing}}', '<no value>'],
  ['{{index .Config.Labels "maintainer"}}', 'me'],
  ['{{if .Config.Cmd}}yes{{else}}no{{end}}', 'no'],
  ['{{if eq .Tag "latest"}}L{{else if eq .Tag "3"}}3{{end}}', 'L'],
  ['{{with .Config}}{{len .Env}}{{end}}', '2'],
  ['{{.Repository | upper}}', 'ALPINE'],
  ['{{printf "%s-%d" .Tag .Size}}', 'latest-4261000'],
  ['{{- .Tag -}}  ', 'latest'],
  ['{{.Config.Cmd}}', '<nil>'],
  ['{{json .Config.Labels}}', '{"maintainer":"me"}'],
  ['{{range $k, $v := .Config.Labels}}{{$k}}={{$v}}{{end}}', 'maintainer=me'],
];

for (const [tpl, want] of cases) {
  test(`template ${tpl}`, () => assert.equal(new Template(tpl).execute(data), want));
}

test('template errors are usage errors', () => {
  assert.throws(() => new Template('{{.Nope}}').execute(data), /can't evaluate field Nope/);
  assert.throws(() => new Template('{{if .Tag}}x').execute(data), /missing \{\{end\}\}/);
  assert.throws(() => new Template('{{nofunc .Tag}}').execute(data), /function "nofunc" not defined/);
});
