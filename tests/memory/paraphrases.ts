/**
 * 50 sentence pairs written for the paraphrase test: each second sentence says what the first says in other
 * words. The pairs are on different subjects, so every other pair's sentence is unrelated text.
 */
export const PARAPHRASE_PAIRS: readonly (readonly [string, string])[] = [
  ['The cat is sleeping on the sofa.', 'A kitten naps on the couch.'],
  ['How do I reset my password?', 'What are the steps to change a forgotten login password?'],
  ['The train to Berlin was delayed by two hours.', 'Our Berlin-bound train arrived two hours late.'],
  ['She bought fresh vegetables at the market.', 'At the market she purchased some fresh produce.'],
  ['The stock market fell sharply today.', 'Share prices dropped steeply on the exchange today.'],
  ['Please translate this letter into Spanish.', 'Could you render this letter in Spanish?'],
  ['It is raining heavily in London.', 'There is a downpour in London right now.'],
  [
    'The doctor prescribed antibiotics for the infection.',
    'The physician gave her medicine to fight the bacterial infection.',
  ],
  ['Write a haiku about the ocean.', 'Compose a short three-line poem about the sea.'],
  ['The invoice must be paid within thirty days.', 'Payment of the bill is due in a month.'],
  ['My laptop battery drains very quickly.', 'The battery of my notebook computer runs out fast.'],
  [
    'He scored the winning goal in the final minute.',
    'In the last minute he kicked the goal that won the match.',
  ],
  ['Summarize this article in three sentences.', 'Give me a three-sentence summary of the article.'],
  ['The museum is closed on Mondays.', 'You cannot visit the museum on Monday.'],
  [
    'Bake the bread at 220 degrees for forty minutes.',
    'Put the loaf in a 220 degree oven for forty minutes.',
  ],
  ['The company hired fifty new engineers.', 'Fifty engineers joined the firm as new employees.'],
  ['Children should drink plenty of water in summer.', 'In hot weather kids need to stay well hydrated.'],
  ['The server crashed because it ran out of memory.', 'The machine went down after exhausting its RAM.'],
  [
    'I would like to book a table for two tonight.',
    'Can I reserve a dinner table for two people this evening?',
  ],
  [
    'The river flooded the village after the storm.',
    'After the storm the village was under water from the river.',
  ],
  [
    'Lightning payments settle in seconds.',
    'A payment over the Lightning Network completes almost instantly.',
  ],
  [
    'The relay refused the event because the signature was invalid.',
    'The event was rejected by the relay since its signature did not verify.',
  ],
  ['Turn off the lights when you leave the room.', 'Switch the lamps off as you exit the room.'],
  ['The garden is full of blooming roses.', 'Roses are flowering all over the garden.'],
  ['She is learning to play the violin.', 'She has started taking violin lessons.'],
  [
    'The meeting has been moved to Thursday afternoon.',
    'We rescheduled the meeting for Thursday after lunch.',
  ],
  ['Mount Everest is the highest mountain on Earth.', 'No peak in the world is taller than Everest.'],
  ['The baby would not stop crying all night.', 'The infant cried through the whole night.'],
  ['Add a pinch of salt to the soup.', 'Season the soup with a little salt.'],
  ['The library lends books for three weeks.', 'You may borrow a book from the library for twenty-one days.'],
  ['Our flight was cancelled because of fog.', 'Fog led the airline to cancel our flight.'],
  ['The new phone has an excellent camera.', 'This latest smartphone takes superb photos.'],
  ['He apologized for arriving late.', 'He said sorry for being late.'],
  [
    'The recipe calls for two eggs and a cup of flour.',
    'You need a cup of flour and a pair of eggs for this recipe.',
  ],
  ['Electric cars produce no exhaust emissions.', 'Battery-powered vehicles do not emit tailpipe pollution.'],
  ['The teacher graded the exams over the weekend.', 'Over the weekend the teacher marked the tests.'],
  [
    'Vaccines protect people from serious diseases.',
    'Immunization shields people against dangerous illnesses.',
  ],
  ['The bridge will be closed for repairs next month.', 'Next month the bridge shuts so it can be repaired.'],
  ['I lost my keys somewhere in the park.', 'My keys went missing while I was in the park.'],
  ['The hotel room had a beautiful view of the lake.', 'From the hotel room we could see the lovely lake.'],
  [
    'Exercise regularly to improve your heart health.',
    'Working out often is good for your cardiovascular system.',
  ],
  ['The printer is out of ink.', 'There is no ink left in the printer.'],
  [
    'They celebrated their wedding anniversary in Paris.',
    'The couple marked the anniversary of their marriage in Paris.',
  ],
  ['The volcano erupted, covering the town in ash.', 'Ash from the volcanic eruption blanketed the town.'],
  ['Please send me the report by Friday.', 'I need you to email the report before the end of Friday.'],
  ['The dog barked at the mail carrier.', 'Our dog growled and barked at the postman.'],
  ['Solar panels turn sunlight into electricity.', 'Photovoltaic panels generate power from the sun.'],
  ['The concert tickets sold out in ten minutes.', 'All tickets for the show were gone within ten minutes.'],
  ['Wash your hands before eating.', 'Clean your hands before a meal.'],
  [
    'The chess champion won the tournament again.',
    'Once more the chess titleholder took first place in the competition.',
  ],
];
