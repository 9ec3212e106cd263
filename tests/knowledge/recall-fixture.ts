// A retrieval test set: the staff handbook of Tidewater Kayak Works, a small (fictional) boat builder, as short
// documents, and questions a new employee might ask, each with the one document that answers it. Questions
// are worded as people ask, not copied from the answer: some share many words with it, some few.
import type { Doc } from './recall-indexing.ts'

export const handbook: Doc[] = [
  {
    title: 'Working hours',
    text: 'The workshop is open from 7:30 to 16:00, Monday to Friday. Core hours, when everyone is in, run from 9:00 to 14:00.',
  },
  {
    title: 'Holiday allowance',
    text: 'Every employee has 27 days of paid holiday a year, plus public holidays. Up to five unused days carry over into the next year.',
  },
  {
    title: 'Booking time off',
    text: 'Book leave in the HR portal at least two weeks ahead. Your team lead approves it; during the spring rush only one builder per bay may be away.',
  },
  {
    title: 'Sick leave',
    text: 'If you are ill, message your team lead before 9:00. From the fourth day of illness a doctor’s note is needed.',
  },
  { title: 'Parental leave', text: 'Parents get 20 weeks of leave at full pay, to be taken within two years of the birth or adoption.' },
  {
    title: 'Payday',
    text: 'Salaries are paid on the 25th of each month. When the 25th falls on a weekend, pay arrives the Friday before.',
  },
  {
    title: 'Expense claims',
    text: 'Claim expenses through the finance app with a photo of the receipt within 60 days. Claims over 500 euros need a director’s approval.',
  },
  {
    title: 'Travel bookings',
    text: 'Trains are booked second class; flights only for trips over six hours by rail. Hotels up to 140 euros a night.',
  },
  {
    title: 'Company car',
    text: 'The two delivery vans are booked on the whiteboard by the loading door. Fill the tank before you return the keys.',
  },
  {
    title: 'Workshop safety',
    text: 'Safety glasses and hearing protection are required in the sanding room. Respirators must be worn whenever resin is mixed.',
  },
  {
    title: 'Resin storage',
    text: 'Epoxy resin and hardener are stored in the ventilated flammables cabinet, below 25 degrees, never next to the heater.',
  },
  {
    title: 'Fire drills',
    text: 'A fire drill happens each quarter without warning. Assemble at the boat ramp and report to the fire warden.',
  },
  { title: 'First aid', text: 'First aid kits hang beside each workbench. Eye wash stations are at the sanding room and the resin bench.' },
  {
    title: 'Accident reporting',
    text: 'Report every injury, however small, in the incident log the same day, and tell the safety officer.',
  },
  {
    title: 'Laptops and equipment',
    text: 'Office staff receive a laptop on their first day; it is replaced every four years. Return it when you leave.',
  },
  {
    title: 'Wi-Fi and passwords',
    text: 'The guest network is TidewaterGuest. Staff use the staff network with their own login; passwords change every 180 days.',
  },
  {
    title: 'Lost badge',
    text: 'A lost access badge must be reported to reception at once so it can be blocked; a replacement costs ten euros.',
  },
  { title: 'Remote work', text: 'Office staff may work from home two days a week. Builders work on site, as the boats are here.' },
  {
    title: 'Dress code',
    text: 'There is no dress code in the office. In the workshop wear closed shoes with steel toes and no loose sleeves.',
  },
  {
    title: 'Lunch and kitchen',
    text: 'Soup is served free on Wednesdays. Label your food in the fridge; it is emptied every Friday afternoon.',
  },
  {
    title: 'Staff discount',
    text: 'Staff pay cost price for one kayak a year and get 30 percent off paddles, spray decks and other gear.',
  },
  { title: 'Demo fleet', text: 'Employees may borrow a demo kayak for a weekend by signing it out with the boathouse keeper on Friday.' },
  {
    title: 'Training budget',
    text: 'Each employee has 1,200 euros a year for courses, books and conferences, agreed with their team lead in advance.',
  },
  { title: 'Performance reviews', text: 'Reviews happen twice a year, in March and September, and set goals for the next six months.' },
  {
    title: 'Salary changes',
    text: 'Pay rises are decided once a year in January, based on the autumn review and the market rates we compare against.',
  },
  { title: 'Referral bonus', text: 'Recommend a friend who is hired and stays six months, and you receive a bonus of 1,000 euros.' },
  {
    title: 'Customer returns',
    text: 'Customers may return an unused kayak within 30 days. Damaged hulls go to the repair bay for an assessment first.',
  },
  {
    title: 'Warranty repairs',
    text: 'Hulls carry a five-year warranty against cracks and delamination; fittings are covered for two years.',
  },
  {
    title: 'Press enquiries',
    text: 'Journalists and bloggers are referred to the marketing lead; staff do not speak to the press for the company.',
  },
  {
    title: 'Leaving the company',
    text: 'The notice period is one month in the first year and two months afterwards. Hand in your badge and laptop on your last day.',
  },
  {
    title: 'Bicycle scheme',
    text: 'The company leases an electric bike for anyone who wants one; the monthly cost is taken from gross salary.',
  },
  {
    title: 'Parking',
    text: 'Staff park in the gravel lot behind the boathouse. Spaces by the entrance are kept for customers collecting boats.',
  },
]

export interface Question {
  question: string
  /** The title of the document that answers it. */
  answer: string
}

export const questions: Question[] = [
  { question: 'What time does the workshop open in the morning?', answer: 'Working hours' },
  { question: 'How many days of paid holiday do I get each year?', answer: 'Holiday allowance' },
  { question: 'Can unused holiday days carry over?', answer: 'Holiday allowance' },
  { question: 'How far ahead must I book leave?', answer: 'Booking time off' },
  { question: 'When do I need a doctor’s note for illness?', answer: 'Sick leave' },
  { question: 'How many weeks of parental leave are there after an adoption?', answer: 'Parental leave' },
  { question: 'On which day of the month are salaries paid?', answer: 'Payday' },
  { question: 'How do I claim back money I spent, and do I need the receipt?', answer: 'Expense claims' },
  { question: 'Can I fly to a meeting or must I take the train?', answer: 'Travel bookings' },
  { question: 'How do I book one of the delivery vans?', answer: 'Company car' },
  { question: 'Do I need a respirator when mixing resin?', answer: 'Workshop safety' },
  { question: 'Where is the epoxy stored?', answer: 'Resin storage' },
  { question: 'Where do we assemble during a fire drill?', answer: 'Fire drills' },
  { question: 'Where can I find an eye wash station?', answer: 'First aid' },
  { question: 'I cut my finger slightly, do I have to report the injury?', answer: 'Accident reporting' },
  { question: 'How often is my laptop replaced?', answer: 'Laptops and equipment' },
  { question: 'What is the guest network called?', answer: 'Wi-Fi and passwords' },
  { question: 'I lost my access badge, what should I do?', answer: 'Lost badge' },
  { question: 'How many days a week can I work from home?', answer: 'Remote work' },
  { question: 'Which shoes must be worn in the workshop?', answer: 'Dress code' },
  { question: 'Which day is soup served free?', answer: 'Lunch and kitchen' },
  { question: 'Do staff get a discount on paddles?', answer: 'Staff discount' },
  { question: 'Can I borrow a demo kayak for the weekend?', answer: 'Demo fleet' },
  { question: 'How much money is there for courses and conferences?', answer: 'Training budget' },
  { question: 'When are performance reviews held?', answer: 'Performance reviews' },
  { question: 'When are pay rises decided?', answer: 'Salary changes' },
  { question: 'Is there a bonus for recommending a friend?', answer: 'Referral bonus' },
  { question: 'Can a customer return an unused kayak?', answer: 'Customer returns' },
  { question: 'How long is the warranty on a hull?', answer: 'Warranty repairs' },
  { question: 'A journalist called me, may I talk to the press?', answer: 'Press enquiries' },
  { question: 'What is the notice period when leaving?', answer: 'Leaving the company' },
  { question: 'Can I lease an electric bike through the company?', answer: 'Bicycle scheme' },
  { question: 'Where should staff park?', answer: 'Parking' },
  { question: 'Who approves my time off?', answer: 'Booking time off' },
  { question: 'Is there anything I must wear in the sanding room?', answer: 'Workshop safety' },
  { question: 'What happens to food left in the fridge?', answer: 'Lunch and kitchen' },
]
