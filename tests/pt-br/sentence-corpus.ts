// Assistant replies in Brazilian Portuguese and the sentences a TTS should get from them, one rule per group.
// Rows marked "trap" are written to fool a segmenter; "limit" rows pin down a documented choice that merges
// two sentences rather than risk a wrong cut.

export type SentenceRow = [label: string, reply: string, sentences: string[]];

const SHORT_AND_STRONG: SentenceRow[] = [
  ['greeting', 'Oi! Tudo bem? Como posso ajudar?', ['Oi!', 'Tudo bem?', 'Como posso ajudar?']],
  ['introduction', 'Olá! Eu sou a assistente de voz. Como posso ajudar você hoje?', ['Olá!', 'Eu sou a assistente de voz.', 'Como posso ajudar você hoje?']],
  ['?! and !!!', 'Sério?! Eu não acredito!!! Que notícia boa.', ['Sério?!', 'Eu não acredito!!!', 'Que notícia boa.']],
  ['shouted', 'ATENÇÃO! NÃO SAIA DE CASA. A TEMPESTADE CHEGA ÀS 18H.', ['ATENÇÃO!', 'NÃO SAIA DE CASA.', 'A TEMPESTADE CHEGA ÀS 18H.']],
  ['¿ and emoji', 'Você fala espanhol? ¿Cómo estás? Claro! 😊 Posso ajudar em espanhol também.', ['Você fala espanhol?', '¿Cómo estás?', 'Claro!', '😊 Posso ajudar em espanhol também.']],
  ['emoji at the end', 'Parabéns pelo aniversário! 🎉🎂', ['Parabéns pelo aniversário!', '🎉🎂']],
  ['emoji inside', 'Hoje vai fazer sol ☀️ e calor. Leve protetor!', ['Hoje vai fazer sol ☀️ e calor.', 'Leve protetor!']],
];

const NUMBERS: SentenceRow[] = [
  ['money', 'O total ficou em R$ 1.250,50. Deseja pagar no Pix ou no cartão?', ['O total ficou em R$ 1.250,50.', 'Deseja pagar no Pix ou no cartão?']],
  ['two amounts', 'A conta de luz foi de R$ 1.250,50 e a de água de R$ 98,30. Quer dividir?', ['A conta de luz foi de R$ 1.250,50 e a de água de R$ 98,30.', 'Quer dividir?']],
  ['decimals', 'O valor de pi é aproximadamente 3.14. Em português escrevemos 3,14 ou 3,5.', ['O valor de pi é aproximadamente 3.14.', 'Em português escrevemos 3,14 ou 3,5.']],
  ['date and time', 'Sua consulta está marcada para 25.12.2026 às 14.30. Chegue com 15 minutos de antecedência.', ['Sua consulta está marcada para 25.12.2026 às 14.30.', 'Chegue com 15 minutos de antecedência.']],
  ['version', 'A versão 2.0.1 corrige o erro. Atualize pelo menu Ajustes.', ['A versão 2.0.1 corrige o erro.', 'Atualize pelo menu Ajustes.']],
  ['flight', 'Seu voo sai 14.30 de 25.12.2026, portão 2. Boa viagem!', ['Seu voo sai 14.30 de 25.12.2026, portão 2.', 'Boa viagem!']],
  ['ends on a number', 'O pedido custa 250. A entrega é grátis.', ['O pedido custa 250.', 'A entrega é grátis.']],
  ['trap: money opens the sentence', 'R$ 50. Esse é o valor do frete.', ['R$ 50.', 'Esse é o valor do frete.']],
  ['a year opens the sentence', '2026 vai ser um bom ano. Vamos planejar?', ['2026 vai ser um bom ano.', 'Vamos planejar?']],
  ['identifiers', 'Seu CPF 123.456.789-00 foi validado. O protocolo é 2026.0001.', ['Seu CPF 123.456.789-00 foi validado.', 'O protocolo é 2026.0001.']],
  ['units', 'Hoje faz 30 °C. Amanhã, 25 °C.', ['Hoje faz 30 °C.', 'Amanhã, 25 °C.']],
  ['trap: a one-letter unit', 'A mesa tem 2 m. A cadeira cabe embaixo.', ['A mesa tem 2 m.', 'A cadeira cabe embaixo.']],
];

const LINKS: SentenceRow[] = [
  ['site and e-mail', 'Acesse www.exemplo.com.br e clique em Entrar. Depois, informe seu e-mail (a@b.com).', ['Acesse www.exemplo.com.br e clique em Entrar.', 'Depois, informe seu e-mail (a@b.com).']],
  ['e-mail before the stop', 'Mande para contato@empresa.com.br. Respondemos em até 24h.', ['Mande para contato@empresa.com.br.', 'Respondemos em até 24h.']],
];

const ABBREVIATIONS: SentenceRow[] = [
  ['titles', 'O Sr. Silva e a Sra. Souza chegaram. A Srta. Lima avisou que vai atrasar.', ['O Sr. Silva e a Sra. Souza chegaram.', 'A Srta. Lima avisou que vai atrasar.']],
  ['doctors and teachers', 'A consulta com a Dra. Ana e o Prof. Carlos foi remarcada. Quer que eu avise a Profa. Maria também?', ['A consulta com a Dra. Ana e o Prof. Carlos foi remarcada.', 'Quer que eu avise a Profa. Maria também?']],
  ['address', 'O endereço é Av. Paulista, nº 1.000, conjunto 12. A outra loja fica na R. Augusta, 500.', ['O endereço é Av. Paulista, nº 1.000, conjunto 12.', 'A outra loja fica na R. Augusta, 500.']],
  ['p. ex. before a capital', 'Você pode pedir um refrigerante, p. ex. Guaraná ou Coca-Cola. Também temos sucos.', ['Você pode pedir um refrigerante, p. ex. Guaraná ou Coca-Cola.', 'Também temos sucos.']],
  ['etc. before a capital ends the sentence', 'Compre arroz, feijão, óleo etc. Depois passe na farmácia.', ['Compre arroz, feijão, óleo etc.', 'Depois passe na farmácia.']],
  ['etc. before a lowercase word does not', 'Leve documentos, fotos etc. e chegue cedo. O atendimento começa às 8h.', ['Leve documentos, fotos etc. e chegue cedo.', 'O atendimento começa às 8h.']],
  ['etc., and min. before a capital', 'Temos pizza, lasanha etc., e tudo sai em 30 min. Quer pedir?', ['Temos pizza, lasanha etc., e tudo sai em 30 min.', 'Quer pedir?']],
  ['initials', 'O livro foi escrito por J. K. Rowling. Ele foi publicado em 1997.', ['O livro foi escrito por J. K. Rowling.', 'Ele foi publicado em 1997.']],
  ['dotted initials and S.A.', 'O autor é J.K. Rowling, e a editora é Rocco S.A. Quer saber mais?', ['O autor é J.K. Rowling, e a editora é Rocco S.A.', 'Quer saber mais?']],
  ['Ltda. ends a sentence', 'O boleto foi emitido pela Acme Ltda. Ele vence amanhã.', ['O boleto foi emitido pela Acme Ltda.', 'Ele vence amanhã.']],
  ['Jr. inside a sentence', 'Martin Luther King Jr. nasceu em 1929. Ele ganhou o Nobel da Paz.', ['Martin Luther King Jr. nasceu em 1929.', 'Ele ganhou o Nobel da Paz.']],
  ['nº, n.º, Nº. and tel.', 'O pedido nº 12345 saiu. O n.º da nota é 987. Anote o Nº. 42 e o tel. 3456-7890. Pronto.', ['O pedido nº 12345 saiu.', 'O n.º da nota é 987.', 'Anote o Nº. 42 e o tel. 3456-7890.', 'Pronto.']],
  ['pág. and cap.', 'Veja a pág. 12 do manual. O cap. 3 explica o resto.', ['Veja a pág. 12 do manual.', 'O cap. 3 explica o resto.']],
  ['steps with min.', '3. Adicione 1,5 xícara de leite. Mexa por 2 min. Sirva quente.', ['3. Adicione 1,5 xícara de leite.', 'Mexa por 2 min.', 'Sirva quente.']],
  ['limit: an initial at the end', 'O plano A. O plano B é mais barato.', ['O plano A. O plano B é mais barato.']],
  ['limit: a title at the end', 'Quem atende hoje é a Dra. Vou confirmar o horário.', ['Quem atende hoje é a Dra. Vou confirmar o horário.']],
  ['trap: a lowercase word after a period', 'O frete sai aprox. cinco reais. Posso fechar?', ['O frete sai aprox. cinco reais.', 'Posso fechar?']],
];

const ELLIPSES: SentenceRow[] = [
  ['ellipsis, then lowercase', 'Hmm... deixa eu pensar. Acho que a resposta é sim.', ['Hmm... deixa eu pensar.', 'Acho que a resposta é sim.']],
  ['ellipsis, then a capital', 'Bem… Não tenho certeza. Vou pesquisar.', ['Bem…', 'Não tenho certeza.', 'Vou pesquisar.']],
  ['ellipsis at the end', 'Estou procurando...', ['Estou procurando...']],
  ['ellipsis, then an emoji', 'Que pena... 😢 Mas amanhã tem mais.', ['Que pena...', '😢 Mas amanhã tem mais.']],
  ['ellipsis opens the reply', '... E foi assim que tudo começou.', ['... E foi assim que tudo começou.']],
];

const QUOTES: SentenceRow[] = [
  ['closing quote', '"Vamos." Ela disse isso e saiu.', ['"Vamos."', 'Ela disse isso e saiu.']],
  ['period inside a quote', 'Ele respondeu: "Não sei. Talvez amanhã." Depois desligou.', ['Ele respondeu: "Não sei. Talvez amanhã."', 'Depois desligou.']],
  ['nested « “ ”»', 'O aviso dizia: «Não entre. Área “restrita. Perigo.”» Por isso esperei.', ['O aviso dizia: «Não entre. Área “restrita. Perigo.”»', 'Por isso esperei.']],
  ['parentheses', 'O museu abre às 9h (fecha às 17h. Às segundas não abre.) Quer o endereço?', ['O museu abre às 9h (fecha às 17h. Às segundas não abre.)', 'Quer o endereço?']],
  ['question in a quote, then lowercase', 'Ela perguntou "tudo bem?" e eu respondi que sim. Foi rápido.', ['Ela perguntou "tudo bem?" e eu respondi que sim.', 'Foi rápido.']],
  ['exclamations in a quote', 'Ele gritou "Socorro! Alguém ajude!" e correu.', ['Ele gritou "Socorro! Alguém ajude!" e correu.']],
  ['a parenthesis closes the stop', '(Veja o manual, pág. 3.) Depois continue.', ['(Veja o manual, pág. 3.)', 'Depois continue.']],
  ['dash', 'Ela chegou — finalmente. Agora podemos começar.', ['Ela chegou — finalmente.', 'Agora podemos começar.']],
  ['bold', '**Atenção:** o prazo termina hoje. **Não esqueça.** Eu posso te lembrar mais tarde?', ['**Atenção:** o prazo termina hoje.', '**Não esqueça.**', 'Eu posso te lembrar mais tarde?']],
  ['trap: a sad face is no bracket', 'Que pena :( Amanhã tem mais. Até logo!', ['Que pena :( Amanhã tem mais.', 'Até logo!']],
  ['trap: a straight quote after a space closes', 'Ele disse "Oi. " e saiu. Depois voltou.', ['Ele disse "Oi. " e saiu.', 'Depois voltou.']],
  ['trap: inches are no quote', 'A tela tem 6" e a bateria dura dois dias. Quer comprar?', ['A tela tem 6" e a bateria dura dois dias.', 'Quer comprar?']],
  ['trap: a quote left open until the line ends', 'Ele disse "vou sair. Volto logo\nTudo bem.', ['Ele disse "vou sair. Volto logo', 'Tudo bem.']],
];

const LINES: SentenceRow[] = [
  ['numbered list', 'Você vai precisar de:\n1. Arroz\n2. Feijão\n3. Farofa\n', ['Você vai precisar de:', '1. Arroz', '2. Feijão', '3. Farofa']],
  ['list items with sentences', 'Siga os passos:\n1. Lave o arroz. Escorra bem.\n2. Refogue o alho.\n\nBom apetite!', ['Siga os passos:', '1. Lave o arroz.', 'Escorra bem.', '2. Refogue o alho.', 'Bom apetite!']],
  ['markdown heading and bullets', '## Dicas\n- Beba água.\n- Durma 8 horas por noite.\n* Evite telas antes de dormir.', ['## Dicas', '- Beba água.', '- Durma 8 horas por noite.', '* Evite telas antes de dormir.']],
  ['roman numerals', 'I. Introdução\nII. Métodos\nIII. Resultados', ['I. Introdução', 'II. Métodos', 'III. Resultados']],
  ['letters and sub-numbers', 'a. Arroz\nb. Feijão\n1.1. Instalação\n1.2. Configuração', ['a. Arroz', 'b. Feijão', '1.1. Instalação', '1.2. Configuração']],
  ['paragraphs', 'Primeiro parágrafo sem ponto\nSegundo parágrafo.\n\nTerceiro.', ['Primeiro parágrafo sem ponto', 'Segundo parágrafo.', 'Terceiro.']],
  ['blank line after a title', 'Resumo\n\nO dia foi ótimo.', ['Resumo', 'O dia foi ótimo.']],
  ['a rule with nothing to say joins the next line', 'Fim da lista.\n\n---\n\nOutra coisa: tudo certo.', ['Fim da lista.', '---\n\nOutra coisa: tudo certo.']],
  [
    'code block',
    'Rode este comando:\n```bash\nnpm install. && npm test\necho "ok." \n\nDone. Next\n```\nDepois me diga o resultado.',
    ['Rode este comando:', '```bash\nnpm install. && npm test\necho "ok." \n\nDone. Next\n```', 'Depois me diga o resultado.'],
  ],
];

export const CORPUS: [string, SentenceRow[]][] = [
  ['short and strong stops', SHORT_AND_STRONG],
  ['numbers', NUMBERS],
  ['links', LINKS],
  ['abbreviations', ABBREVIATIONS],
  ['ellipses', ELLIPSES],
  ['quotes and brackets', QUOTES],
  ['lines, lists and code', LINES],
];
